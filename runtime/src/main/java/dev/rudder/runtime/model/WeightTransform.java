package dev.rudder.runtime.model;

/**
 * Replaces tensors at load time, e.g. alignment-vector merging {@code W + sum(lambda * delta)}.
 * {@link #apply} receives the stored tensor widened to float32 (quantized ones dequantized; q/k projection rows in
 * the store's order, see {@link dev.rudder.runtime.io.TensorStore#qkRowsInPairOrder()}) and returns the tensor to use
 * (it may modify and return its argument). The model keeps the returned array and reads it on
 * every forward pass, so a transform may later update it in place (re-merging with new lambdas)
 * while no request runs.
 */
public interface WeightTransform {
    boolean touches(String tensorName);

    float[] apply(String tensorName, float[] stored);
}

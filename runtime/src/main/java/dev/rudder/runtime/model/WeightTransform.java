package dev.rudder.runtime.model;

/**
 * Replaces tensors at load time, e.g. alignment-vector merging {@code W + sum(lambda * delta)}.
 * {@link #apply} receives the stored tensor widened to float32 and returns the tensor to use
 * (it may modify and return its argument).
 */
public interface WeightTransform {
    boolean touches(String tensorName);

    float[] apply(String tensorName, float[] stored);
}

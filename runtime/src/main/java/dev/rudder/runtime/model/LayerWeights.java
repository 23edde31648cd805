package dev.rudder.runtime.model;

import dev.rudder.runtime.tensor.WeightMatrix;

/**
 * The weights of one decoder block: matrices {@code [out, in]}, norms {@code [hidden]}, biases
 * {@code [out]} and null unless the architecture has them (Qwen2 q/k/v).
 */
public record LayerWeights(
        float[] attnNorm,
        WeightMatrix wq, WeightMatrix wk, WeightMatrix wv, WeightMatrix wo,
        float[] bq, float[] bk, float[] bv, float[] bo,
        float[] mlpNorm,
        WeightMatrix wGate, WeightMatrix wUp, WeightMatrix wDown,
        float[] bGate, float[] bUp, float[] bDown) {
}

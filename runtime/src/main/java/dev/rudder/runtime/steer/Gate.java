package dev.rudder.runtime.steer;

/**
 * A per-request switch for steering (InferAligner's guidance gate): at the last prompt token,
 * after block {@code layer}, {@code score = dot(blockOutput, direction) + bias}; steering is
 * applied only when {@code score > 0}. The target model's own activations decide.
 */
public record Gate(int layer, float[] direction, float bias) {
}

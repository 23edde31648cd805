package dev.rudder.runtime.backend;

/**
 * Backend-owned activation buffers for a batch of rows (residual stream, normed input, q/k/v,
 * attention output, projections, MLP buffers, attention scores). Opaque to the forward pass.
 */
public interface Activations extends AutoCloseable {
    /** Most rows a batch may have. */
    int rows();

    /** Most cache entries a row may attend to. */
    int contextLength();

    @Override
    default void close() {
    }
}

package dev.rudder.runtime.model;

import dev.rudder.runtime.backend.Activations;
import dev.rudder.runtime.backend.Backend;
import dev.rudder.runtime.backend.Backend.Norm;
import dev.rudder.runtime.backend.Backend.Seam;
import dev.rudder.runtime.backend.Batch;

/**
 * The LLaMA forward pass, written once over a {@link Backend}: every step named, top to bottom.
 * Which rows run, their positions and their steering are in the {@link Batch}; the buffers are
 * the backend's. Prompts and decode steps (one sequence or many) all come through here.
 */
final class ForwardPass {

    /** Sees the residual stream after each block (vector extraction reads it here). */
    @FunctionalInterface
    interface BlockObserver {
        void afterBlock(int layer);
    }

    private final Backend be;
    private final int numLayers;

    ForwardPass(Backend backend, int numLayers) {
        this.be = backend;
        this.numLayers = numLayers;
    }

    /** Runs blocks {@code [from, to)} over the rows of {@code b}; {@code observer} may be null. */
    void blocks(Activations a, Batch b, int from, int to, BlockObserver observer) {
        for (int l = from; l < to; l++) {
            // attention
            be.rmsnorm(a, b, l, Norm.ATTENTION);
            be.qkv(a, b, l);
            be.rope(a, b);
            be.attention(a, b, l);
            be.outputProjection(a, b, l);
            steeringSeam(a, b, l, Seam.AFTER_ATTENTION);
            // MLP
            be.rmsnorm(a, b, l, Norm.MLP);
            be.mlp(a, b, l);
            steeringSeam(a, b, l, Seam.BLOCK_OUTPUT);
            if (observer != null) {
                observer.afterBlock(l);
            }
        }
        if (to == numLayers) {
            for (int i = 0; i < b.size(); i++) {
                if (b.last(i)) {
                    be.keepLastHidden(a, b, i);
                }
            }
        }
    }

    /**
     * Steering happens here: the residual add of block {@code l} at {@code seam}, fused with the
     * rows' steering vectors (scaled by their gate) and the probes (DESIGN.md §3).
     */
    private void steeringSeam(Activations a, Batch b, int l, Seam seam) {
        be.residualSeam(a, b, l, seam);
    }

    /** Logits of rows {@code [first, first + count)} into {@code out[0 .. count)} on the host. */
    void logits(Activations a, Batch b, int first, int count, float[][] out) {
        be.logits(a, b, first, count, out);
    }

    int numLayers() {
        return numLayers;
    }
}

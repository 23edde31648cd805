package dev.rudder.runtime.backend;

import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.model.ModelWeights;
import dev.rudder.runtime.steer.SteeringPlan;

/**
 * Where the forward pass runs (DESIGN.md §2). The forward pass ({@code model.ForwardPass}) is
 * written once as a sequence of named steps over this interface; a backend owns everything the
 * steps touch: weight handles (made from {@code ModelWeights} when it is created), activation
 * buffers ({@link Activations}) and per-sequence state ({@link Sequence}: KV cache, RoPE tables,
 * steering vectors, gate flag, probe readings). The caller holds only opaque handles and a
 * host-side row table ({@link Batch}), so a GPU backend keeps all of it on the device; only
 * logits, and the few reads named below, come back to the host.
 *
 * <p>A step works on the rows {@code [0, batch.size())} of an {@link Activations}; row {@code i}
 * belongs to {@code batch.sequence(i)}. Rows of a prompt all belong to one sequence; rows of a
 * decode step usually belong to different sequences (batched decode), each with its own cache,
 * position and steering plan. Steps are called in forward order on one thread per
 * {@link Activations}; different {@link Activations} may be used from different threads at once.
 *
 * <p>{@link Batch#version()} changes whenever the row table does, so a backend that uploads
 * it can do so once per forward call rather than once per step.
 *
 * <p>Bit-identity contract: for a {@link Batch.Kind#DECODE} batch, row {@code i}'s results must
 * not depend on the other rows (each row equals the same sequence stepped alone); a
 * {@link Batch.Kind#PROMPT} batch may use matrix-matrix products whose rounding differs.
 */
public interface Backend extends AutoCloseable {

    /** Creates a backend for one loaded model (e.g. {@code CpuBackend::new}). */
    @FunctionalInterface
    interface Factory {
        Backend create(ModelConfig config, ModelWeights weights, int threads);
    }

    /** Which RMSNorm of a block: before attention or before the MLP. */
    enum Norm { ATTENTION, MLP }

    /** Where the residual seam runs in block {@code l}: after the attention add, or after the MLP add (the block output). */
    enum Seam { AFTER_ATTENTION, BLOCK_OUTPUT }

    /** One line for logs, e.g. {@code "cpu (Vector API, 2 threads)"} or {@code "cuda:0 (NVIDIA H200)"}. */
    String name();

    /** Worker threads (CPU) or 1. */
    int threads();

    /**
     * A sequence: KV cache for {@code contextLength} positions stored as {@code cache} says, steered by {@code plan}
     * (never null; {@link SteeringPlan#NONE} for none). A backend that cannot store a cache type says so
     * ({@link dev.rudder.runtime.BadInputException}).
     */
    Sequence newSequence(int contextLength, SteeringPlan plan, KvCacheTypes cache);

    /** A sequence with a float32 cache ({@link KvCacheTypes#DEFAULT}). */
    default Sequence newSequence(int contextLength, SteeringPlan plan) {
        return newSequence(contextLength, plan, KvCacheTypes.DEFAULT);
    }

    /** Activation buffers for batches of up to {@code rows} rows attending to up to {@code contextLength} cache entries. */
    Activations newActivations(int rows, int contextLength);

    // ------------------------------------------------------------ the steps, in forward order

    /** {@code x[firstRow + j] = embedding[tokens[j]]} for j < count (one gather for a whole prompt or decode step). */
    void embed(Activations a, int firstRow, int[] tokens, int count);

    /** {@code x[row] = values} (an embedding row given by the caller, length hidden). */
    void embedValues(Activations a, int row, float[] values);

    /** {@code xb[i] = rmsnorm(x[i]) * norm weight of {@code layer}} for every row. */
    void rmsnorm(Activations a, Batch b, int layer, Norm which);

    /** {@code q, k, v = xb Wq + bq, xb Wk + bk, xb Wv + bv}. */
    void qkv(Activations a, Batch b, int layer);

    /** Rotates q and k of every row by its {@link Batch#position}. */
    void rope(Activations a, Batch b);

    /**
     * Stores k, v of every row into its sequence's cache at {@link Batch#slot} and attends: each
     * row's heads over cache entries {@code [attendFrom, slot]} of its own sequence -> attnOut.
     */
    void attention(Activations a, Batch b, int layer);

    /** {@code proj = attnOut Wo + bo}. */
    void outputProjection(Activations a, Batch b, int layer);

    /**
     * The residual stream seam (DESIGN.md §3), one pass per row:
     * {@code x += proj + scale * g * v} with this layer's vector of the row's plan at {@code seam}
     * ({@code g} from {@link Batch#steer}: 0, 1, or the sequence's gate flag), and, on rows that
     * are {@link Batch#last} of their sequence, the plan's probe at {@link Seam#BLOCK_OUTPUT} read
     * into the sequence's probe scores. With nothing configured this is exactly {@code x += proj}.
     */
    void residualSeam(Activations a, Batch b, int layer, Seam seam);

    /** {@code proj = (silu(xb Wgate + bgate) * (xb Wup + bup)) Wdown + bdown}. */
    void mlp(Activations a, Batch b, int layer);

    /**
     * The InferAligner gate of {@code row}'s sequence: {@code score = dot(x[row], direction) + bias},
     * open when {@code score > 0}. The decision stays in the sequence (a device flag on a GPU);
     * later {@link SteerMode#IF_GATE_OPEN} rows read it.
     */
    void decideGate(Activations a, Batch b, int row);

    /** Keeps {@code x[row]} as its sequence's last hidden state (after the last block, before the final norm). */
    void keepLastHidden(Activations a, Batch b, int row);

    /** {@code out[j] = lmHead(rmsnorm(x[firstRow + j]))} for j < count, to the host. */
    void logits(Activations a, Batch b, int firstRow, int count, float[][] out);

    // ------------------------------------------------------------ host reads and bookkeeping

    /** Copies {@code x[row]} to the host (vector extraction, tests). */
    void readResidual(Activations a, int row, float[] dst);

    /** Saves {@code x[0 .. rows)} so that {@link #restoreResidual} can rerun layers (gated recompute). */
    void saveResidual(Activations a, int rows);

    void restoreResidual(Activations a, int rows);

    @Override
    void close();
}

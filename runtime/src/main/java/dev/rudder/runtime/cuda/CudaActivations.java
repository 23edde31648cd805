package dev.rudder.runtime.cuda;

import dev.rudder.runtime.backend.Activations;
import dev.rudder.runtime.backend.Batch;
import dev.rudder.runtime.io.ModelConfig;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Activation buffers of a batch on the device (row {@code i} of a {@code [rows, n]} buffer at
 * byte {@code 4 * i * n}), the batch's row table, and the queue (CUDA stream) its steps run on:
 * one queue per activations, so requests on different threads run side by side on the GPU.
 * Freed on {@link #close} or, failing that, when it becomes unreachable.
 */
final class CudaActivations implements Activations {
    static final int MAX_SPLITS = 64;
    private static final Cleaner CLEANER = Cleaner.create();

    final int rows;
    final int contextLength;
    final Gpu.Queue queue;
    final KernelArgs args;
    final long x;          // [rows, hidden] the residual stream
    final long xb;         // [rows, max(hidden, qDim)] normed input of a projection
    final long qkv;        // [rows, qDim + 2 kvDim] q | k | v
    final long attnOut;    // [rows, qDim]
    final long proj;       // [rows, hidden] output of o_proj / down_proj
    final long gateUp;     // [rows, 2 inter] gate | up (prefill), before SwiGLU
    final long h;          // [rows, inter] silu(gate) * up
    final long saved;      // [rows, hidden] copy of x for a gated recompute
    final long logits;     // [rows, vocab]
    final long partO;      // [partials, headDim] split-attention partial outputs, partial = (row * heads + head) * splits + split
    final long partMl;     // [partials, 2] their running max and sum
    final long tokens;     // [rows] int token ids to embed (-1: row given as values)
    final long table;      // row table: pos, slot, from, ctx int[rows] each, then kbase, vbase long[rows]

    // host side
    final Arena arena = Arena.ofShared();
    final MemorySegment hostTokens;   // [rows] int
    final MemorySegment hostTable;    // same layout as table
    final MemorySegment hostFloats;   // [max(hidden, vocab)] staging for single rows
    int pendingEmbeds;                // rows [0, pendingEmbeds) have host token ids not yet embedded
    boolean pendingRope;              // the rope step ran: the attention step's store rotates q and k
    final PendingSeam pendingSeam;    // the last seam, until the next step (fused with a following RMSNorm)
    boolean tableValid;
    private final long[] allocations;
    private final Cleaner.Cleanable cleanable;

    CudaActivations(Gpu gpu, ModelConfig cfg, int rows, int contextLength, int partials) {
        this.rows = rows;
        this.contextLength = contextLength;
        int hidden = cfg.hiddenSize();
        int heads = cfg.numHeads();
        int qDim = heads * cfg.headDim();
        int kvDim = cfg.numKvHeads() * cfg.headDim();
        int inter = cfg.intermediateSize();
        int vocab = cfg.vocabSize();
        long[] sizes = {
            4L * rows * hidden, 4L * rows * Math.max(hidden, qDim), 4L * rows * (qDim + 2 * kvDim), 4L * rows * qDim,
            4L * rows * hidden, 4L * rows * 2 * inter, 4L * rows * inter, 4L * rows * hidden, 4L * rows * vocab,
            4L * partials * cfg.headDim(), 4L * partials * 2, 4L * rows, tableBytes(rows)};
        String[] names = {"x", "xb", "qkv", "attnOut", "proj", "gateUp", "h", "saved", "logits", "partO", "partMl",
            "tokens", "row table"};
        allocations = new long[sizes.length];
        Gpu.Queue q = null;
        try {
            for (int i = 0; i < sizes.length; i++) {
                allocations[i] = gpu.allocate(sizes[i], "activations " + names[i] + " (" + rows + " rows)");
            }
            q = gpu.newQueue();
        } catch (RuntimeException e) {
            free(gpu, allocations, null);
            arena.close();
            throw e;
        }
        queue = q;
        x = allocations[0];
        xb = allocations[1];
        qkv = allocations[2];
        attnOut = allocations[3];
        proj = allocations[4];
        gateUp = allocations[5];
        h = allocations[6];
        saved = allocations[7];
        logits = allocations[8];
        partO = allocations[9];
        partMl = allocations[10];
        tokens = allocations[11];
        table = allocations[12];
        args = new KernelArgs(arena);
        pendingSeam = new PendingSeam(rows);
        hostTokens = arena.allocate(JAVA_INT, rows);
        hostTable = arena.allocate(tableBytes(rows), 16);
        hostFloats = arena.allocate(4L * Math.max(hidden, vocab), 16);
        for (int i = 0; i < rows; i++) {
            hostTokens.setAtIndex(JAVA_INT, i, -1);
        }
        long[] owned = allocations.clone();
        Gpu.Queue ownedQueue = q;
        cleanable = CLEANER.register(this, () -> free(gpu, owned, ownedQueue));
    }

    /** Also run by the Cleaner, possibly after the model (and its GPU) closed: then there is nothing left to free. */
    private static void free(Gpu gpu, long[] addresses, Gpu.Queue q) {
        if (q != null) {
            q.close();   // a no-op once the GPU closed: its streams went with it
        }
        for (long a : addresses) {
            if (a != 0) {
                gpu.free(a);
            }
        }
    }

    static long tableBytes(int rows) {
        return 16L * rows + 16L * rows;
    }

    // row table offsets (bytes)
    long posTable() {
        return table;
    }

    long slotTable() {
        return table + 4L * rows;
    }

    long fromTable() {
        return table + 8L * rows;
    }

    long ctxTable() {
        return table + 12L * rows;
    }

    long keyTable() {
        return table + 16L * rows;
    }

    long valueTable() {
        return table + 24L * rows;
    }

    /**
     * Fills the host copy of the row table from {@code b}; returns true when it differs from what
     * was last uploaded (then the caller uploads it).
     */
    boolean fillTable(Batch b) {
        boolean changed = !tableValid;
        int n = b.size();
        for (int i = 0; i < n; i++) {
            CudaSequence s = (CudaSequence) b.sequence(i);
            changed |= setInt(0, i, b.position(i));
            changed |= setInt(1, i, b.slot(i));
            changed |= setInt(2, i, b.attendFrom(i));
            changed |= setInt(3, i, s.contextLength);
            changed |= setLong(0, i, s.keys);
            changed |= setLong(1, i, s.values);
        }
        tableValid = true;
        return changed;
    }

    private boolean setInt(int column, int row, int v) {
        long off = 4L * ((long) column * rows + row);
        boolean diff = hostTable.get(JAVA_INT, off) != v;
        hostTable.set(JAVA_INT, off, v);
        return diff;
    }

    private boolean setLong(int column, int row, long v) {
        long off = 16L * rows + 8L * ((long) column * rows + row);
        boolean diff = hostTable.get(JAVA_LONG, off) != v;
        hostTable.set(JAVA_LONG, off, v);
        return diff;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int contextLength() {
        return contextLength;
    }

    @Override
    public void close() {
        cleanable.clean();
        arena.close();
    }
}

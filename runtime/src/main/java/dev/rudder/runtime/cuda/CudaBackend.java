package dev.rudder.runtime.cuda;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.backend.Activations;
import dev.rudder.runtime.backend.Backend;
import dev.rudder.runtime.backend.Batch;
import dev.rudder.runtime.backend.KvCacheTypes;
import dev.rudder.runtime.backend.Sequence;
import dev.rudder.runtime.backend.SteerMode;
import dev.rudder.runtime.backend.cpu.RopeTable;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.model.ModelWeights;
import dev.rudder.runtime.steer.Gate;
import dev.rudder.runtime.steer.SteeringPlan;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The forward-pass steps on an NVIDIA GPU: weights, activations, KV caches, steering vectors,
 * probes and the gate all in device memory; kernels from the committed PTX; only the logits (and
 * what the host explicitly reads) come back. Each {@link Activations} has its own CUDA stream.
 *
 * <p>Matrix products: decode rows (and F32 weights) use the matrix-vector kernels, one output
 * row per warp, batch rows in grid y so every row's result is its single-row product; prompts
 * with BF16/F16 weights use the tensor-core kernel. The residual seam, the probe and the gate
 * are kernels that read the sequence's device-side gate flag, so a gated request needs no host
 * round trip.
 */
public final class CudaBackend implements Backend {
    private static final int MATVEC_WARPS = 8;

    private final Gpu gpu;
    private final boolean ownsGpu;
    private final ModelConfig cfg;
    private final DeviceWeights w;
    private final Gpu.Queue setup;
    private final long invFreq;        // [headDim / 2] RoPE inverse frequencies (float32)
    private final int hidden;
    private final int headDim;
    private final int nHeads;
    private final int nKv;
    private final int qDim;
    private final int kvDim;
    private final int inter;
    private final int vocab;
    private final float eps;
    private final float attnScale;
    private final int sms;

    /** A backend factory for {@code Model.load}: GPU {@code ordinal}, opened per model. */
    public static Backend.Factory factory(int ordinal) {
        return (config, weights, threads) -> {
            CudaGpu gpu = CudaGpu.open(ordinal);
            try {
                return new CudaBackend(gpu, true, config, weights);
            } catch (RuntimeException e) {
                gpu.close();
                throw e;
            }
        };
    }

    /** Uploads {@code weights} to {@code gpu}; closes the GPU on {@link #close} when {@code ownsGpu}. */
    public CudaBackend(Gpu gpu, boolean ownsGpu, ModelConfig config, ModelWeights weights) {
        this.gpu = gpu;
        this.ownsGpu = ownsGpu;
        this.cfg = config;
        hidden = cfg.hiddenSize();
        headDim = cfg.headDim();
        nHeads = cfg.numHeads();
        nKv = cfg.numKvHeads();
        qDim = nHeads * headDim;
        kvDim = nKv * headDim;
        inter = cfg.intermediateSize();
        vocab = cfg.vocabSize();
        eps = (float) cfg.rmsNormEps();
        attnScale = (float) (1.0 / Math.sqrt(headDim));
        if (headDim > 256 || headDim % 2 != 0) {
            throw new CudaException("the CUDA attention kernel needs an even head_dim <= 256, the model has " + headDim);
        }
        if (weights.ropeAdjacentPairs()) {
            // the CUDA RoPE kernel rotates HF's halves; llama.cpp's q/k row order needs adjacent pairs
            throw new CudaException("GGUF files of the llama architecture (q/k rows in llama.cpp's order) run on the"
                    + " CPU only for now (--device cpu)");
        }
        sms = gpu.multiprocessors();
        w = new DeviceWeights(gpu, cfg, weights);
        setup = gpu.newQueue();
        double[] inv = RopeTable.inverseFrequencies(cfg);
        float[] factors = weights.ropeFreqFactors();   // llama.cpp's rope_freqs.weight, as the CPU's RopeTable
        float[] invF = new float[inv.length];
        for (int i = 0; i < inv.length; i++) {
            invF[i] = factors == null ? (float) inv[i] : (float) (inv[i] / factors[i]);
        }
        invFreq = gpu.allocate(4L * invF.length, "RoPE frequencies");
        try (Arena a = Arena.ofConfined()) {
            setup.upload(a.allocateFrom(JAVA_FLOAT, invF), invFreq);
            setup.synchronize();
        }
    }

    @Override
    public String name() {
        return gpu.describe() + ", " + (w.bytes >> 20) + " MiB of weights";
    }

    @Override
    public int threads() {
        return 1;
    }

    @Override
    public synchronized Sequence newSequence(int contextLength, SteeringPlan plan, KvCacheTypes cache) {
        if (!cache.equals(KvCacheTypes.DEFAULT)) {
            throw new BadInputException("the CUDA backend keeps its KV cache in float32; a " + cache
                    + " cache (--cache-type-k/-v) runs on the CPU only");
        }
        return new CudaSequence(gpu, setup, cfg, contextLength, plan);
    }

    @Override
    public Activations newActivations(int rows, int contextLength) {
        return new CudaActivations(gpu, cfg, rows, contextLength, AttentionSplit.maxPartials(sms));
    }

    private static CudaActivations cuda(Activations a) {
        return (CudaActivations) a;
    }

    // ------------------------------------------------------------ steps

    @Override
    public void embed(Activations a, int firstRow, int[] tokens, int count) {
        CudaActivations c = cuda(a);
        for (int j = 0; j < count; j++) {
            c.hostTokens.setAtIndex(JAVA_INT, firstRow + j, tokens[j]);
        }
        c.pendingEmbeds = Math.max(c.pendingEmbeds, firstRow + count);
    }

    @Override
    public void embedValues(Activations a, int row, float[] values) {
        CudaActivations c = begin(a, null);   // what is pending writes x first
        MemorySegment s = c.hostFloats.asSlice(0, 4L * hidden);
        MemorySegment.copy(values, 0, s, JAVA_FLOAT, 0, hidden);
        c.queue.upload(s, c.x + 4L * row * hidden);
    }

    /**
     * Every step starts here: runs what earlier steps left pending (embeddings; a held seam, unless
     * {@code keepSeam}, for the RMSNorm that fuses it) and uploads the row table if the batch changed.
     */
    private CudaActivations begin(Activations a, Batch b) {
        return begin(a, b, false);
    }

    private CudaActivations begin(Activations a, Batch b, boolean keepSeam) {
        CudaActivations c = cuda(a);
        if (!c.pendingSeam.isEmpty() && (!keepSeam || c.pendingEmbeds > 0)) {   // a seam before new rows are embedded
            c.pendingSeam.launch(c, hidden, rowThreads(hidden), 0, eps);
        }
        // both uploads before the embedding launch (which reads no table): a decode step's
        // launches then come without other work between them, as a CUDA graph needs
        if (c.pendingEmbeds > 0) {
            c.queue.upload(c.hostTokens.asSlice(0, 4L * c.pendingEmbeds), c.tokens);
        }
        if (b != null) {
            if (c.fillTable(b)) {
                c.queue.upload(c.hostTable, c.table);
            }
            for (int i = 0; i < b.size(); i++) {
                ((CudaSequence) b.sequence(i)).touchedBy(c.queue);
            }
        }
        if (c.pendingEmbeds > 0) {
            int n = c.pendingEmbeds;
            c.args.clear().ptr(w.embedding.address()).ptr(c.tokens).i32(0).ptr(c.x).i32(hidden);
            c.queue.launch(w.embedding.type().embed, LaunchGeometry.blockPerRow(n, rowThreads(hidden)), c.args);
            for (int i = 0; i < n; i++) {
                c.hostTokens.setAtIndex(JAVA_INT, i, -1);
            }
            c.pendingEmbeds = 0;
        }
        return c;
    }

    @Override
    public void rmsnorm(Activations a, Batch b, int layer, Norm which) {
        CudaActivations c = begin(a, b, true);
        DeviceWeights.Block blk = w.blocks[layer];
        long weight = which == Norm.ATTENTION ? blk.attnNorm() : blk.mlpNorm();
        if (c.pendingSeam.rows() != b.size()) {   // nothing held (or, never in the forward pass, another batch's)
            if (!c.pendingSeam.isEmpty()) {
                c.pendingSeam.launch(c, hidden, rowThreads(hidden), 0, eps);
            }
            rmsnormRows(c, c.x, weight, c.xb, b.size());
        } else {
            c.pendingSeam.launch(c, hidden, rowThreads(hidden), weight, eps);   // seam + this norm, one pass
        }
    }

    private void rmsnormRows(CudaActivations c, long in, long weight, long out, int rows) {
        c.args.clear().ptr(in).ptr(weight).ptr(out).i32(hidden).f32(eps);
        c.queue.launch(Kernel.RMSNORM, LaunchGeometry.blockPerRow(rows, rowThreads(hidden)), c.args);
    }

    @Override
    public void qkv(Activations a, Batch b, int layer) {
        CudaActivations c = begin(a, b);
        c.pendingRope = false;   // new q and k: nothing rotated yet
        DeviceWeights.Block blk = w.blocks[layer];
        product(c, b.kind(), b.size(), blk.qkv(), c.xb, c.qkv, qDim + 2 * kvDim, blk.qkvBias());
    }

    /** Recorded only: the attention step's first kernel rotates q and k as it stores k and v (one launch for both). */
    @Override
    public void rope(Activations a, Batch b) {
        begin(a, b).pendingRope = true;
    }

    @Override
    public void attention(Activations a, Batch b, int layer) {
        CudaActivations c = begin(a, b);
        int n = b.size();
        c.args.clear().ptr(c.qkv).ptr(c.pendingRope ? invFreq : 0).ptr(c.posTable()).ptr(c.slotTable()).ptr(c.ctxTable())
                .ptr(c.keyTable()).ptr(c.valueTable()).i32(layer).i32(nHeads).i32(nKv).i32(headDim);
        int pairs = Math.max((nHeads + nKv) * (headDim / 2), kvDim);   // a thread per rotated pair (and per value copied)
        c.queue.launch(Kernel.ROPE_KV_STORE, new LaunchGeometry(n, (pairs + 127) / 128, 1, 128, 1, 1, 0), c.args);
        c.pendingRope = false;
        int span = 1;
        for (int i = 0; i < n; i++) {
            span = Math.max(span, b.slot(i) - b.attendFrom(i) + 1);
        }
        AttentionSplit split = AttentionSplit.choose(n * nHeads, span, sms);
        c.args.clear().ptr(c.qkv).i32(qDim + 2 * kvDim).ptr(c.slotTable()).ptr(c.fromTable()).ptr(c.ctxTable())
                .ptr(c.keyTable()).ptr(c.valueTable()).i32(layer).ptr(c.attnOut).ptr(c.partO).ptr(c.partMl)
                .i32(nHeads).i32(nKv).i32(headDim).i32(split.splits()).f32(attnScale);
        c.queue.launch(Kernel.ATTENTION, new LaunchGeometry(n * nHeads, split.splits(), 1, 32, 1, 1, 0), c.args);
        if (split.splits() > 1) {
            c.args.clear().ptr(c.partO).ptr(c.partMl).ptr(c.attnOut).i32(nHeads).i32(headDim).i32(split.splits());
            // at least 64 threads: one per split (at most MAX_SPLITS)
            c.queue.launch(Kernel.ATTENTION_COMBINE, LaunchGeometry.blockPerRow(n * nHeads, Math.max(CudaActivations.MAX_SPLITS, roundUp32(headDim))), c.args);
        }
    }

    @Override
    public void outputProjection(Activations a, Batch b, int layer) {
        CudaActivations c = begin(a, b);
        DeviceWeights.Block blk = w.blocks[layer];
        product(c, b.kind(), b.size(), blk.o(), c.attnOut, c.proj, hidden, blk.oBias());
    }

    @Override
    public void residualSeam(Activations a, Batch b, int layer, Seam seam) {
        CudaActivations c = begin(a, b);
        boolean afterAttention = seam == Seam.AFTER_ATTENTION;
        int n = b.size();
        // one launch per run of rows with the same sequence and steering (a prompt: one launch),
        // held until the next step: the RMSNorm that follows runs in the same kernel
        for (int i0 = 0; i0 < n; ) {
            CudaSequence s = (CudaSequence) b.sequence(i0);
            SteerMode mode = b.steer(i0);
            int i1 = i0 + 1;
            while (i1 < n && b.sequence(i1) == s && b.steer(i1) == mode) {
                i1++;
            }
            SteeringPlan plan = s.plan;
            long vector = mode == SteerMode.OFF ? 0 : afterAttention ? s.attnVectors[layer] : s.outVectors[layer];
            float scale = afterAttention ? plan.attnScale(layer) : plan.outScale(layer);
            long gate = mode == SteerMode.IF_GATE_OPEN ? s.gateFlag() : 0;
            long probe = afterAttention ? 0 : s.probes[layer];
            int probeRow = -1;
            for (int i = i0; i < i1 && probe != 0; i++) {
                if (b.last(i)) {
                    probeRow = i - i0;
                }
            }
            c.pendingSeam.add(i0, i1 - i0, vector, scale, gate, probe, s.probeScore(layer), probeRow);
            i0 = i1;
        }
    }

    @Override
    public void mlp(Activations a, Batch b, int layer) {
        CudaActivations c = begin(a, b);
        DeviceWeights.Block blk = w.blocks[layer];
        int n = b.size();
        DeviceWeights.Matrix gu = blk.gateUp();
        if (useTensorCores(b.kind(), n, gu)) {
            product(c, b.kind(), n, gu, c.xb, c.gateUp, 2 * inter, blk.gateUpBias());
            c.args.clear().ptr(c.gateUp).ptr(c.h).i32(inter).i32(n);
            c.queue.launch(Kernel.SWIGLU, LaunchGeometry.elementwise((long) n * inter, 256), c.args);
        } else {
            c.args.clear().ptr(gu.address()).ptr(c.xb).i32(hidden).ptr(c.h).ptr(blk.gateUpBias()).i32(inter).i32(hidden);
            c.queue.launch(gu.type().matvecSwiglu(hidden), LaunchGeometry.warpRows(inter, MATVEC_WARPS, 1, n), c.args);
        }
        product(c, b.kind(), n, blk.down(), c.h, c.proj, hidden, blk.downBias());
    }

    @Override
    public void decideGate(Activations a, Batch b, int row) {
        CudaActivations c = begin(a, b);
        CudaSequence s = (CudaSequence) b.sequence(row);
        Gate g = s.plan.gate();
        c.args.clear().ptr(c.x).ptr(s.gateDirection).f32(g.bias()).i32(row).i32(hidden).ptr(s.gateFlag()).ptr(s.gateScoreAddress());
        c.queue.launch(Kernel.GATE_DECIDE, LaunchGeometry.of(1, rowThreads(hidden)), c.args);
        s.gateDecided();
    }

    @Override
    public void keepLastHidden(Activations a, Batch b, int row) {
        CudaActivations c = begin(a, b);
        CudaSequence s = (CudaSequence) b.sequence(row);
        c.queue.copy(s.lastHiddenAddress(), c.x + 4L * row * hidden, 4L * hidden);
    }

    @Override
    public void logits(Activations a, Batch b, int firstRow, int count, float[][] out) {
        CudaActivations c = begin(a, b);
        for (int j = 0; j < count; j++) {
            if (out[j].length != vocab) {
                throw new IllegalArgumentException("logits row " + j + " has " + out[j].length + " floats, vocab is " + vocab);
            }
        }
        rmsnormRows(c, c.x + 4L * firstRow * hidden, w.finalNorm, c.xb, count);
        product(c, b.kind(), count, w.lmHead, c.xb, c.logits, vocab, 0);
        if (count == 1) {
            MemorySegment s = c.hostFloats.asSlice(0, 4L * vocab);
            c.queue.download(c.logits, s);
            MemorySegment.copy(s, JAVA_FLOAT, 0, out[0], 0, vocab);
            return;
        }
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment all = tmp.allocate(4L * count * vocab, 16);
            c.queue.download(c.logits, all);
            for (int j = 0; j < count; j++) {
                MemorySegment.copy(all, JAVA_FLOAT, 4L * j * vocab, out[j], 0, vocab);
            }
        }
    }

    // ------------------------------------------------------------ host reads

    @Override
    public void readResidual(Activations a, int row, float[] dst) {
        CudaActivations c = begin(a, null);
        MemorySegment s = c.hostFloats.asSlice(0, 4L * hidden);
        c.queue.download(c.x + 4L * row * hidden, s);
        MemorySegment.copy(s, JAVA_FLOAT, 0, dst, 0, hidden);
    }

    @Override
    public void saveResidual(Activations a, int rows) {
        CudaActivations c = begin(a, null);
        c.queue.copy(c.saved, c.x, 4L * rows * hidden);
    }

    @Override
    public void restoreResidual(Activations a, int rows) {
        CudaActivations c = begin(a, null);
        c.queue.copy(c.x, c.saved, 4L * rows * hidden);
    }

    @Override
    public void close() {
        try {
            setup.close();
            gpu.free(invFreq);
            w.close();
        } finally {
            if (ownsGpu) {
                gpu.close();
            }
        }
    }

    // ------------------------------------------------------------ helpers

    private static boolean useTensorCores(Batch.Kind kind, int n, DeviceWeights.Matrix m) {
        return kind == Batch.Kind.PROMPT && n > 1 && m.type().matmul != null;
    }

    /**
     * {@code out[i] = m . in[i] + bias} for rows i < n ({@code in} rows of m.cols floats, {@code out}
     * rows of {@code outStride} floats): tensor cores for prompts, else the matrix-vector kernel.
     */
    private void product(CudaActivations c, Batch.Kind kind, int n, DeviceWeights.Matrix m, long in, long out,
                         int outStride, long bias) {
        if (useTensorCores(kind, n, m)) {
            c.args.clear().ptr(in).ptr(m.address()).ptr(out).i32(outStride).ptr(bias).i32(n).i32(m.rows()).i32(m.cols());
            c.queue.launch(m.type().matmul, LaunchGeometry.tiles(n, m.rows(), 64, 64, 128), c.args);
        } else {
            c.args.clear().ptr(m.address()).ptr(in).i32(m.cols()).ptr(out).i32(outStride).ptr(bias).i32(m.rows()).i32(m.cols());
            c.queue.launch(m.type().matvec(m.cols()), LaunchGeometry.warpRows(m.rows(), MATVEC_WARPS, 1, n), c.args);
        }
    }

    /** Threads for a kernel with one block per row of {@code n} values: a multiple of 32, at most 1024. */
    static int rowThreads(int n) {
        return Math.min(1024, Math.max(32, roundUp32(Math.min(n, 4096) / 4)));
    }

    static int roundUp32(int n) {
        return (n + 31) / 32 * 32;
    }
}

package dev.rudder.runtime.backend.cpu;

import dev.rudder.runtime.backend.Activations;
import dev.rudder.runtime.backend.Backend;
import dev.rudder.runtime.backend.Batch;
import dev.rudder.runtime.backend.GateState;
import dev.rudder.runtime.backend.KvCacheTypes;
import dev.rudder.runtime.backend.Sequence;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.kernel.Kernels;
import dev.rudder.runtime.model.LayerWeights;
import dev.rudder.runtime.model.ModelWeights;
import dev.rudder.runtime.parallel.WorkerPool;
import dev.rudder.runtime.steer.Gate;
import dev.rudder.runtime.steer.SteeringPlan;
import dev.rudder.runtime.tensor.WeightMatrix;

/**
 * The forward-pass steps on the CPU: float32 activations on the heap, weights read in their
 * stored dtype through {@link WeightMatrix}, element-wise kernels from {@link Kernels} (Vector
 * API, or scalar where {@code jdk.incubator.vector} is not readable), matrix products split by
 * output rows over a {@link WorkerPool}.
 */
public final class CpuBackend implements Backend {
    private final ModelConfig cfg;
    private final ModelWeights w;
    private final Kernels k;
    private final WorkerPool pool;
    private final int hidden;
    private final int headDim;
    private final int nHeads;
    private final int nKv;
    private final int qDim;
    private final int kvDim;
    private final int inter;
    private final float eps;

    public CpuBackend(ModelConfig config, ModelWeights weights, int threads) {
        this.cfg = config;
        this.w = weights;
        this.k = Kernels.get();
        this.pool = new WorkerPool(threads);
        hidden = cfg.hiddenSize();
        headDim = cfg.headDim();
        nHeads = cfg.numHeads();
        nKv = cfg.numKvHeads();
        qDim = nHeads * headDim;
        kvDim = nKv * headDim;
        inter = cfg.intermediateSize();
        eps = (float) cfg.rmsNormEps();
    }

    @Override
    public String name() {
        return "cpu (" + k.name() + ", " + pool.threads() + " threads)";
    }

    @Override
    public int threads() {
        return pool.threads();
    }

    WorkerPool pool() {
        return pool;
    }

    Kernels kernels() {
        return k;
    }

    @Override
    public Sequence newSequence(int contextLength, SteeringPlan plan, KvCacheTypes cache) {
        return new CpuSequence(cfg, w.ropeFreqFactors(), contextLength, plan, cache);
    }

    @Override
    public Activations newActivations(int rows, int contextLength) {
        return new CpuActivations(this, cfg, rows, contextLength);
    }

    private static CpuActivations cpu(Activations a) {
        return (CpuActivations) a;
    }

    // ------------------------------------------------------------ steps

    @Override
    public void embed(Activations a, int firstRow, int[] tokens, int count) {
        for (int j = 0; j < count; j++) {
            w.embedding().readRow(tokens[j], cpu(a).x, (firstRow + j) * hidden);
        }
    }

    @Override
    public void embedValues(Activations a, int row, float[] values) {
        System.arraycopy(values, 0, cpu(a).x, row * hidden, hidden);
    }

    /** From this many rows on a batch's per-row steps run on the pool. */
    private static final int PARALLEL_ROWS = 16;

    @Override
    public void rmsnorm(Activations a, Batch b, int layer, Norm which) {
        LayerWeights lw = w.layer(layer);
        cpu(a).rowSteps.run(RowOp.RMSNORM, b, which == Norm.ATTENTION ? lw.attnNorm() : lw.mlpNorm());
    }

    private void swigluRows(CpuActivations c, int i0, int i1) {
        for (int i = i0; i < i1; i++) {
            k.swiglu(c.mlpGate, i * inter, c.mlpUp, i * inter, inter);
        }
    }

    private void rmsnormRows(CpuActivations c, float[] weight, int i0, int i1) {
        for (int i = i0; i < i1; i++) {
            k.rmsnorm(c.xb, i * hidden, c.x, i * hidden, weight, hidden, eps);
        }
    }

    @Override
    public void qkv(Activations a, Batch b, int layer) {
        CpuActivations c = cpu(a);
        LayerWeights lw = w.layer(layer);
        int n = b.size();
        products(c, b, c.xb).to(lw.wq(), c.q, qDim).to(lw.wk(), c.k, kvDim).to(lw.wv(), c.v, kvDim).go();
        addBias(c.q, lw.bq(), n, qDim);
        addBias(c.k, lw.bk(), n, kvDim);
        addBias(c.v, lw.bv(), n, kvDim);
    }

    @Override
    public void rope(Activations a, Batch b) {
        cpu(a).rowSteps.run(RowOp.ROPE, b, null);
    }

    private void ropeRows(CpuActivations c, Batch b, int i0, int i1) {
        for (int i = i0; i < i1; i++) {
            RopeTable rope = ((CpuSequence) b.sequence(i)).rope;
            float[] cos = rope.cos(b.position(i));
            float[] sin = rope.sin(b.position(i));
            if (w.ropeAdjacentPairs()) {
                // q/k rows in llama.cpp's order (a GGUF file): rotate adjacent pairs instead of halves
                for (int h = 0; h < nHeads; h++) {
                    RopeTable.rotatePairs(c.q, i * qDim + h * headDim, headDim, cos, sin);
                }
                for (int h = 0; h < nKv; h++) {
                    RopeTable.rotatePairs(c.k, i * kvDim + h * headDim, headDim, cos, sin);
                }
                continue;
            }
            for (int h = 0; h < nHeads; h++) {
                k.rope(c.q, i * qDim + h * headDim, headDim, cos, sin);
            }
            for (int h = 0; h < nKv; h++) {
                k.rope(c.k, i * kvDim + h * headDim, headDim, cos, sin);
            }
        }
    }

    @Override
    public void attention(Activations a, Batch b, int layer) {
        cpu(a).attention.run(pool, b, layer);
    }

    @Override
    public void outputProjection(Activations a, Batch b, int layer) {
        CpuActivations c = cpu(a);
        LayerWeights lw = w.layer(layer);
        products(c, b, c.attnOut).to(lw.wo(), c.proj, hidden).go();
        addBias(c.proj, lw.bo(), b.size(), hidden);
    }

    @Override
    public void residualSeam(Activations a, Batch b, int layer, Seam seam) {
        CpuActivations c = cpu(a);
        boolean afterAttention = seam == Seam.AFTER_ATTENTION;
        for (int i = 0; i < b.size(); i++) {
            CpuSequence s = (CpuSequence) b.sequence(i);
            SteeringPlan plan = s.plan;
            boolean on = switch (b.steer(i)) {
                case OFF -> false;
                case ON -> true;
                case IF_GATE_OPEN -> s.gateState.steers();
            };
            float[] vector = !on ? null : afterAttention ? plan.attnVector(layer) : plan.outVector(layer);
            float scale = afterAttention ? plan.attnScale(layer) : plan.outScale(layer);
            float[] probe = !afterAttention && b.last(i) ? plan.probe(layer) : null;
            float score = k.residualAdd(c.x, i * hidden, c.proj, i * hidden, vector, scale, probe, hidden);
            if (probe != null) {
                s.probeScores[layer] = score;
            }
        }
    }

    @Override
    public void mlp(Activations a, Batch b, int layer) {
        CpuActivations c = cpu(a);
        LayerWeights lw = w.layer(layer);
        int n = b.size();
        products(c, b, c.xb).to(lw.wGate(), c.mlpGate, inter).to(lw.wUp(), c.mlpUp, inter).go();
        addBias(c.mlpGate, lw.bGate(), n, inter);
        addBias(c.mlpUp, lw.bUp(), n, inter);
        c.rowSteps.run(RowOp.SWIGLU, b, null);
        products(c, b, c.mlpGate).to(lw.wDown(), c.proj, hidden).go();
        addBias(c.proj, lw.bDown(), n, hidden);
    }

    @Override
    public void decideGate(Activations a, Batch b, int row) {
        CpuSequence s = (CpuSequence) b.sequence(row);
        Gate g = s.plan.gate();
        s.gateScore = k.dot(cpu(a).x, row * hidden, g.direction(), 0, hidden) + g.bias();
        s.gateState = s.gateScore > 0f ? GateState.OPEN : GateState.CLOSED;
    }

    @Override
    public void keepLastHidden(Activations a, Batch b, int row) {
        System.arraycopy(cpu(a).x, row * hidden, ((CpuSequence) b.sequence(row)).lastHidden, 0, hidden);
    }

    @Override
    public void logits(Activations a, Batch b, int firstRow, int count, float[][] out) {
        CpuActivations c = cpu(a);
        for (int j = 0; j < count; j++) {
            k.rmsnorm(c.xb, j * hidden, c.x, (firstRow + j) * hidden, w.finalNorm(), hidden, eps);
        }
        // per row, so that every row's logits are its single-row product whatever the batch
        WeightMatrix head = w.lmHead();
        int vocab = head.rows();
        for (int j = 0; j < count; j++) {
            if (out[j].length != vocab) {
                throw new IllegalArgumentException("logits row " + j + " has " + out[j].length + " floats, vocab is " + vocab);
            }
        }
        if (count == 1) {
            c.matmul.perRow(1, c.xb).to(head, out[0], vocab).go();
            return;
        }
        float[] all = c.logits(vocab);
        c.matmul.perRow(count, c.xb).to(head, all, vocab).go();
        for (int j = 0; j < count; j++) {
            System.arraycopy(all, j * vocab, out[j], 0, vocab);
        }
    }

    // ------------------------------------------------------------ host reads

    @Override
    public void readResidual(Activations a, int row, float[] dst) {
        System.arraycopy(cpu(a).x, row * hidden, dst, 0, hidden);
    }

    @Override
    public void saveResidual(Activations a, int rows) {
        CpuActivations c = cpu(a);
        if (c.saved == null) {
            c.saved = new float[c.x.length];
        }
        System.arraycopy(c.x, 0, c.saved, 0, rows * hidden);
    }

    @Override
    public void restoreResidual(Activations a, int rows) {
        CpuActivations c = cpu(a);
        System.arraycopy(c.saved, 0, c.x, 0, rows * hidden);
    }

    @Override
    public void close() {
        pool.close();
    }

    // ------------------------------------------------------------ helpers

    /** Prompt rows share matrix-matrix products; decode rows each get the single-row product. */
    private MatmulTask products(CpuActivations c, Batch b, float[] input) {
        return b.kind() == Batch.Kind.PROMPT ? c.matmul.product(b.size(), input) : c.matmul.perRow(b.size(), input);
    }

    private static void addBias(float[] out, float[] bias, int n, int dim) {
        if (bias == null) {
            return;
        }
        for (int i = 0; i < n; i++) {
            int off = i * dim;
            for (int j = 0; j < dim; j++) {
                out[off + j] += bias[j];
            }
        }
    }

    enum RowOp { RMSNORM, ROPE, SWIGLU }

    /**
     * The per-row element-wise steps of a batch (norm, RoPE, SwiGLU), split by rows over the pool from
     * {@link #PARALLEL_ROWS} rows on (a prompt), so the other threads do not idle between the matrix products;
     * each row is computed exactly as alone. One reusable task per activations (sessions running on several
     * threads at once each have their own): no allocation per call.
     */
    static final class RowsTask implements WorkerPool.RangeTask {
        private final CpuBackend be;
        private final CpuActivations c;
        private RowOp op;
        private Batch b;
        private float[] weight;

        RowsTask(CpuBackend be, CpuActivations c) {
            this.be = be;
            this.c = c;
        }

        void run(RowOp op, Batch b, float[] weight) {
            this.op = op;
            this.b = b;
            this.weight = weight;
            if (b.size() >= PARALLEL_ROWS) {
                be.pool.parallelFor(b.size(), this);
            } else {
                run(0, b.size());
            }
            this.b = null;
            this.weight = null;
        }

        @Override
        public void run(int i0, int i1) {
            switch (op) {
                case RMSNORM -> be.rmsnormRows(c, weight, i0, i1);
                case ROPE -> be.ropeRows(c, b, i0, i1);
                case SWIGLU -> be.swigluRows(c, i0, i1);
            }
        }
    }
}

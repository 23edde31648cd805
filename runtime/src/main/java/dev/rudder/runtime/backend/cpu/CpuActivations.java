package dev.rudder.runtime.backend.cpu;

import dev.rudder.runtime.backend.Activations;
import dev.rudder.runtime.backend.Batch;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.kernel.Kernels;
import dev.rudder.runtime.parallel.WorkerPool;


/**
 * Activation buffers of a batch on the heap, row {@code i} of a {@code [rows, n]} buffer at
 * offset {@code i * n}. The parallel tasks live here too (fields instead of lambdas keep decode
 * allocation-free, and two batches on two threads never share them).
 */
final class CpuActivations implements Activations {
    final int rows;
    final int contextLength;
    final float[] x;          // [rows, hidden] the residual stream
    final float[] xb;         // [rows, max(hidden, qDim)] normed input of a projection
    final float[] q;          // [rows, qDim]
    final float[] k;          // [rows, kvDim]
    final float[] v;          // [rows, kvDim]
    final float[] attnOut;    // [rows, qDim] attention output, all heads
    final float[] proj;       // [rows, hidden] output of o_proj / down_proj
    final float[] mlpGate;    // [rows, inter] gate_proj output, then silu(mlpGate) * mlpUp (not the InferAligner Gate)
    final float[] mlpUp;      // [rows, inter] up_proj output
    final float[][] scores;   // [head][contextLength] attention weights of the row being computed
    float[] saved;            // [rows, hidden] copy of x for a gated recompute, made on first use
    private float[] logits;   // [rows, vocab] logits of a multi-row call, made on first use

    final MatmulTask matmul;
    final AttentionTask attention;
    final CpuBackend.RowsTask rowSteps;   // the per-row steps of a prompt, split over the pool

    CpuActivations(CpuBackend backend, ModelConfig cfg, int rows, int contextLength) {
        this.rows = rows;
        this.contextLength = contextLength;
        int hidden = cfg.hiddenSize();
        int qDim = cfg.numHeads() * cfg.headDim();
        int kvDim = cfg.numKvHeads() * cfg.headDim();
        int inter = cfg.intermediateSize();
        x = new float[rows * hidden];
        xb = new float[rows * Math.max(hidden, qDim)];
        q = new float[rows * qDim];
        k = new float[rows * kvDim];
        v = new float[rows * kvDim];
        attnOut = new float[rows * qDim];
        proj = new float[rows * hidden];
        mlpGate = new float[rows * inter];
        mlpUp = new float[rows * inter];
        scores = new float[cfg.numHeads()][contextLength];
        matmul = new MatmulTask(backend.pool());
        attention = new AttentionTask(backend.kernels(), cfg, this);
        rowSteps = new CpuBackend.RowsTask(backend, this);
    }

    float[] logits(int vocab) {
        if (logits == null) {
            logits = new float[rows * vocab];
        }
        return logits;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int contextLength() {
        return contextLength;
    }

    /** Attention of one layer for every row of a batch, split by heads over the pool. */
    static final class AttentionTask implements WorkerPool.RangeTask {
        private final Kernels kern;
        private final CpuActivations a;
        private final int nHeads;
        private final int headDim;
        private final int group;
        private final int qDim;
        private final int kvDim;
        private final float invSqrt;
        Batch batch;
        int layer;

        AttentionTask(Kernels kern, ModelConfig cfg, CpuActivations a) {
            this.kern = kern;
            this.a = a;
            nHeads = cfg.numHeads();
            headDim = cfg.headDim();
            group = nHeads / cfg.numKvHeads();
            qDim = nHeads * headDim;
            kvDim = cfg.numKvHeads() * headDim;
            invSqrt = (float) (1.0 / Math.sqrt(headDim));
        }

        int heads() {
            return nHeads;
        }

        /** Causal attention for heads [h0, h1): each row over its own sequence's cache [attendFrom, slot]. */
        @Override
        public void run(int h0, int h1) {
            for (int h = h0; h < h1; h++) {
                float[] sc = a.scores[h];
                int kvOff = (h / group) * headDim;
                for (int i = 0; i < batch.size(); i++) {
                    CpuSequence s = (CpuSequence) batch.sequence(i);
                    int qOff = i * qDim + h * headDim;
                    int last = batch.slot(i);
                    int first = batch.attendFrom(i);
                    kern.attentionScores(a.q, qOff, s.keyCache[layer], kvOff * s.keyStride, s.keyStride, headDim,
                            first, last + 1, invSqrt, sc);
                    kern.softmax(sc, first, last - first + 1);
                    kern.attentionValues(sc, first, last + 1, s.valueCache[layer], kvOff, kvDim, a.attnOut, qOff, headDim);
                }
            }
        }
    }
}

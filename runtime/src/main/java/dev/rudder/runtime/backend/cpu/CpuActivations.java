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

    /**
     * Attention of one layer for every row of a batch, split over the pool by (row, key/value head): the query heads
     * that share a key/value head run together ({@link Kernels#attentionScores(float[], int, int, float[], int, int,
     * int, int, int, float, float[][])}), reading that head's cache once for all of them. Where those units would split
     * unevenly over the threads (few rows, an odd number of key/value heads) the units are (row, query head) instead.
     * Each thread keeps its own score rows.
     */
    static final class AttentionTask implements WorkerPool.RangeTask {
        private final Kernels kern;
        private final CpuActivations a;
        private final int nKv;
        private final int headDim;
        private final int group;
        private final int qDim;
        private final int kvDim;
        private final float invSqrt;
        private final ThreadLocal<float[][]> scores;   // per thread [group][contextLength]: one row's weights per head
        Batch batch;
        int layer;
        boolean storeOwn;   // each unit stores its row's keys and values of its group first (decode rows: distinct sequences)
        boolean perHead;    // units are (row, query head), one head at a time, instead of (row, key/value head)

        AttentionTask(Kernels kern, ModelConfig cfg, CpuActivations a) {
            this.kern = kern;
            this.a = a;
            nKv = cfg.numKvHeads();
            headDim = cfg.headDim();
            group = cfg.numHeads() / nKv;
            qDim = cfg.numHeads() * headDim;
            kvDim = nKv * headDim;
            invSqrt = (float) (1.0 / Math.sqrt(headDim));
            int context = a.contextLength;
            scores = ThreadLocal.withInitial(() -> new float[group][context]);
        }

        /** Row i's keys and values of dimensions [j0, j1) into its sequence's cache at its slot (keys transposed). */
        void store(int i, int j0, int j1) {
            CpuSequence s = (CpuSequence) batch.sequence(i);
            float[] kT = s.keyCache[layer];
            int slot = batch.slot(i);
            for (int j = j0, src = i * kvDim + j0, dst = slot + j0 * s.keyStride; j < j1; j++, src++, dst += s.keyStride) {
                kT[dst] = a.k[src];
            }
            System.arraycopy(a.v, i * kvDim + j0, s.valueCache[layer], slot * kvDim + j0, j1 - j0);
        }

        /** Units of work: one per row and key/value head (or query head, {@link #perHead}). */
        int units() {
            return batch.size() * (perHead ? nKv * group : nKv);
        }

        /**
         * Causal attention for units [u0, u1), each a row over its own sequence's cache [attendFrom, slot] and the
         * query heads of one key/value head (or one query head: the grouped kernels then run the one-head ones).
         */
        @Override
        public void run(int u0, int u1) {
            float[][] sc = scores.get();
            int heads = perHead ? 1 : group;               // query heads per unit
            int perRow = nKv * group / heads;              // units per row
            for (int u = u0; u < u1; u++) {
                int i = u / perRow;
                int h0 = u % perRow * heads;               // first query head of the unit
                CpuSequence s = (CpuSequence) batch.sequence(i);
                int kvOff = h0 / group * headDim;
                if (storeOwn) {
                    store(i, kvOff, kvOff + headDim);
                }
                int qOff = i * qDim + h0 * headDim;
                int last = batch.slot(i);
                int first = batch.attendFrom(i);
                kern.attentionScores(a.q, qOff, heads, s.keyCache[layer], kvOff * s.keyStride, s.keyStride, headDim,
                        first, last + 1, invSqrt, sc);
                for (int j = 0; j < heads; j++) {
                    kern.softmax(sc[j], first, last - first + 1);
                }
                kern.attentionValues(sc, heads, first, last + 1, s.valueCache[layer], kvOff, kvDim, a.attnOut, qOff, headDim);
            }
        }
    }
}

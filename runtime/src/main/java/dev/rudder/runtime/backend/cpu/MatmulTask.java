package dev.rudder.runtime.backend.cpu;

import dev.rudder.runtime.parallel.WorkerPool;
import dev.rudder.runtime.tensor.WeightMatrix;

/**
 * Matrix products split by output rows over the worker pool; up to three matrices that share an
 * input go in one parallel call. Two modes: {@link #product} (prompt rows: one matrix-vector
 * product for one row, a matrix-matrix product for several) and {@link #perRow} (decode rows:
 * {@link WeightMatrix#matvecBatch}, weights read once for all rows and every row exactly its
 * single-row matrix-vector product, so a batched step is bit-identical to each sequence stepped
 * alone).
 */
final class MatmulTask implements WorkerPool.RangeTask {
    private final WorkerPool pool;
    private final WeightMatrix[] m = new WeightMatrix[3];
    private final float[][] out = new float[3][];
    private final int[] stride = new int[3];
    private int count;
    private int n;
    private boolean perRow;
    private float[] in;

    MatmulTask(WorkerPool pool) {
        this.pool = pool;
    }

    /** Sets up a call over {@code n} input rows of {@code input} (row i at {@code i * cols}). */
    MatmulTask product(int n, float[] input) {
        return set(n, input, false);
    }

    MatmulTask perRow(int n, float[] input) {
        return set(n, input, true);
    }

    private MatmulTask set(int n, float[] input, boolean perRow) {
        this.n = n;
        this.in = input;
        this.perRow = perRow;
        this.count = 0;
        return this;
    }

    /** Adds a matrix; output row i goes to {@code output[i * outStride ..]}. */
    MatmulTask to(WeightMatrix a, float[] output, int outStride) {
        m[count] = a;
        out[count] = output;
        stride[count] = outStride;
        count++;
        return this;
    }

    void go() {
        int total = 0;
        for (int i = 0; i < count; i++) {
            total += m[i].rows();
        }
        pool.parallelFor(total, 16, this);
    }

    @Override
    public void run(int start, int end) {
        int base = 0;
        for (int i = 0; i < count; i++) {
            int rows = m[i].rows();
            int s = Math.max(start, base) - base;
            int e = Math.min(end, base + rows) - base;
            if (s < e) {
                if (n == 1) {
                    m[i].matvec(in, 0, out[i], 0, s, e);
                } else if (!perRow) {
                    m[i].matmul(in, n, out[i], stride[i], s, e);
                } else {
                    m[i].matvecBatch(in, n, m[i].cols(), out[i], stride[i], s, e);
                }
            }
            base += rows;
        }
    }
}

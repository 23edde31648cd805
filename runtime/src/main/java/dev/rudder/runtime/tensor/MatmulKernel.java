package dev.rudder.runtime.tensor;

import jdk.incubator.vector.FloatVector;

import java.util.Arrays;

import static dev.rudder.runtime.kernel.Vectors.F;
import static dev.rudder.runtime.kernel.Vectors.L;

/**
 * The matmul driver of the vector path, for every storage type: rows are widened (dequantized)
 * to float by the type's {@link RowKernel#widen} in blocks, then one float kernel does the
 * arithmetic. Only loaded when the Vector API path is in use.
 *
 * <p>{@code x} (n rows of cols) is transposed once per call into slabs of 2L inputs:
 * {@code xT[s*cols*2L + pos(c)*2L + lane]} for input {@code s*2L + lane} (zero padded; pos is the
 * position of column c in the kernel's {@link ColumnOrder}). Rows are widened in blocks of at most
 * 256 KB; for each slab, groups of 6 rows run the kernel: per column 6 weight broadcasts x 2
 * activation vectors = 12 FMAs, no horizontal reductions. The slab (cols*2L floats) stays in
 * L1/L2 across the row groups of a block. Each output is one FMA chain over the columns in that
 * order, whatever the ranges and batch size. A slab holding at most L inputs (a short prompt, or the
 * last slab) runs {@link #kernelHalf} on its first L lanes only: the same chains, without the FMAs
 * on padding (a 16-token prompt on AVX-512 did twice the work it needed).
 */
final class MatmulKernel {
    /** Rows per group in the kernel. */
    private static final int GROUP = 6;
    /** Widened-weight block budget, in floats (256 KB). */
    private static final int BLOCK_FLOATS = 64 * 1024;
    /** Most inputs transposed at once (bounds the transposed-input scratch to 256*cols floats). */
    static final int MAX_INPUTS = 256;

    private MatmulKernel() {
    }

    static void product(RowKernel k, int cols, float[] x, int n, float[] out, int outStride, int r0, int r1) {
        for (int i0 = 0; i0 < n; i0 += MAX_INPUTS) {
            product(k, cols, x, i0 * cols, Math.min(MAX_INPUTS, n - i0), out, i0 * outStride, outStride, r0, r1);
        }
    }

    private static void product(RowKernel k, int cols, float[] x, int xOff, int n, float[] out, int outOff,
                                int outStride, int r0, int r1) {
        final int sl = 2 * L;
        int slabs = (n + sl - 1) / sl;
        Scratch sc = Scratch.get();
        float[] xT = sc.x(slabs * sl * cols);          // [slabs, cols, 2L]
        transposeInputs(x, xOff, n, cols, k.order() == ColumnOrder.PAIR, xT);
        int blockRows = Math.max(GROUP, BLOCK_FLOATS / Math.max(1, cols) / GROUP * GROUP);
        float[] wt = sc.w(blockRows * cols + GROUP * sl); // [blockRows, cols] widened rows, then [GROUP, 2L] sums
        int accOff = blockRows * cols;
        for (int rb = r0; rb < r1; rb += blockRows) {
            int rows = Math.min(blockRows, r1 - rb);
            for (int j = 0; j < rows; j++) {
                k.widen(rb + j, wt, j * cols);
            }
            int padded = (rows + GROUP - 1) / GROUP * GROUP;
            if (padded > rows) {
                Arrays.fill(wt, rows * cols, padded * cols, 0f);
            }
            for (int s = 0; s < slabs; s++) {
                int slab = s * sl * cols;
                int i0 = s * sl;
                int iEnd = Math.min(n, i0 + sl);
                boolean half = iEnd - i0 <= L;   // a last slab of at most L inputs: its padded half is skipped
                for (int g = 0; g < rows; g += GROUP) {
                    if (half) {
                        kernelHalf(wt, g * cols, cols, xT, slab, wt, accOff);
                    } else {
                        kernel(wt, g * cols, cols, xT, slab, wt, accOff);
                    }
                    int cnt = Math.min(GROUP, rows - g);
                    int r = rb + g;
                    for (int j = 0; j < cnt; j++) {
                        int a = accOff + j * sl - i0;
                        for (int i = i0; i < iEnd; i++) {
                            out[outOff + i * outStride + r + j] = wt[a + i];
                        }
                    }
                }
            }
        }
    }

    /**
     * Fills the slab layout; padded inputs are zero. Column-block outer, input inner, so each
     * 2L x 2L output block is finished while in L1.
     */
    private static void transposeInputs(float[] x, int xOff, int n, int cols, boolean pairLayout, float[] xT) {
        final int sl = 2 * L;
        final int block = 2 * L;
        int slabs = (n + sl - 1) / sl;
        int main = ColumnOrder.pairMain(cols);
        for (int s = 0; s < slabs; s++) {
            int slab = s * sl * cols;
            int i0 = s * sl;
            int cnt = Math.min(sl, n - i0);
            int base = xOff + i0 * cols;
            for (int c0 = 0; c0 < main; c0 += block) {
                int d0 = slab + c0 * sl;
                for (int lane = 0; lane < cnt; lane++) {
                    int src = base + lane * cols + c0;
                    int d = d0 + lane;
                    if (pairLayout) {
                        for (int j = 0; j < L; j++) {
                            xT[d + j * sl] = x[src + 2 * j];
                            xT[d + (L + j) * sl] = x[src + 2 * j + 1];
                        }
                    } else {
                        for (int j = 0; j < block; j++) {
                            xT[d + j * sl] = x[src + j];
                        }
                    }
                }
            }
            for (int c = main; c < cols; c++) {
                for (int lane = 0; lane < cnt; lane++) {
                    xT[slab + c * sl + lane] = x[base + lane * cols + c];
                }
            }
            if (cnt < sl) {
                for (int c = 0; c < cols; c++) {
                    Arrays.fill(xT, slab + c * sl + cnt, slab + (c + 1) * sl, 0f);
                }
            }
        }
    }

    /**
     * 6 widened rows ({@code wt[w0 + j*cols + c]}) times one slab of 2L transposed inputs;
     * writes {@code acc[accOff + j*2L + lane]}.
     */
    private static void kernel(float[] wt, int w0, int cols, float[] xT, int slab, float[] acc, int accOff) {
        int w1 = w0 + cols;
        int w2 = w1 + cols;
        int w3 = w2 + cols;
        int w4 = w3 + cols;
        int w5 = w4 + cols;
        FloatVector a0 = FloatVector.zero(F), b0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F), b1 = FloatVector.zero(F);
        FloatVector a2 = FloatVector.zero(F), b2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F), b3 = FloatVector.zero(F);
        FloatVector a4 = FloatVector.zero(F), b4 = FloatVector.zero(F);
        FloatVector a5 = FloatVector.zero(F), b5 = FloatVector.zero(F);
        for (int c = 0; c < cols; c++) {
            int xo = slab + c * 2 * L;
            FloatVector x0 = FloatVector.fromArray(F, xT, xo);
            FloatVector x1 = FloatVector.fromArray(F, xT, xo + L);
            FloatVector s = FloatVector.broadcast(F, wt[w0 + c]);
            a0 = x0.fma(s, a0);
            b0 = x1.fma(s, b0);
            s = FloatVector.broadcast(F, wt[w1 + c]);
            a1 = x0.fma(s, a1);
            b1 = x1.fma(s, b1);
            s = FloatVector.broadcast(F, wt[w2 + c]);
            a2 = x0.fma(s, a2);
            b2 = x1.fma(s, b2);
            s = FloatVector.broadcast(F, wt[w3 + c]);
            a3 = x0.fma(s, a3);
            b3 = x1.fma(s, b3);
            s = FloatVector.broadcast(F, wt[w4 + c]);
            a4 = x0.fma(s, a4);
            b4 = x1.fma(s, b4);
            s = FloatVector.broadcast(F, wt[w5 + c]);
            a5 = x0.fma(s, a5);
            b5 = x1.fma(s, b5);
        }
        int o = accOff;
        a0.intoArray(acc, o);
        b0.intoArray(acc, o + L);
        a1.intoArray(acc, o + 2 * L);
        b1.intoArray(acc, o + 3 * L);
        a2.intoArray(acc, o + 4 * L);
        b2.intoArray(acc, o + 5 * L);
        a3.intoArray(acc, o + 6 * L);
        b3.intoArray(acc, o + 7 * L);
        a4.intoArray(acc, o + 8 * L);
        b4.intoArray(acc, o + 9 * L);
        a5.intoArray(acc, o + 10 * L);
        b5.intoArray(acc, o + 11 * L);
    }

    /** {@link #kernel} for a slab whose inputs all sit in its first L lanes: the {@code a} chains only, written to the same places. */
    private static void kernelHalf(float[] wt, int w0, int cols, float[] xT, int slab, float[] acc, int accOff) {
        int w1 = w0 + cols;
        int w2 = w1 + cols;
        int w3 = w2 + cols;
        int w4 = w3 + cols;
        int w5 = w4 + cols;
        FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F);
        FloatVector a3 = FloatVector.zero(F), a4 = FloatVector.zero(F), a5 = FloatVector.zero(F);
        for (int c = 0; c < cols; c++) {
            FloatVector x0 = FloatVector.fromArray(F, xT, slab + c * 2 * L);
            a0 = x0.fma(FloatVector.broadcast(F, wt[w0 + c]), a0);
            a1 = x0.fma(FloatVector.broadcast(F, wt[w1 + c]), a1);
            a2 = x0.fma(FloatVector.broadcast(F, wt[w2 + c]), a2);
            a3 = x0.fma(FloatVector.broadcast(F, wt[w3 + c]), a3);
            a4 = x0.fma(FloatVector.broadcast(F, wt[w4 + c]), a4);
            a5 = x0.fma(FloatVector.broadcast(F, wt[w5 + c]), a5);
        }
        int o = accOff;
        a0.intoArray(acc, o);
        a1.intoArray(acc, o + 2 * L);
        a2.intoArray(acc, o + 4 * L);
        a3.intoArray(acc, o + 6 * L);
        a4.intoArray(acc, o + 8 * L);
        a5.intoArray(acc, o + 10 * L);
    }
}

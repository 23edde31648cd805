package dev.rudder.runtime.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * bfloat16 weights (the upper 16 bits of a float32), little-endian, row-major. Widening is exact:
 * {@code Float.intBitsToFloat(bits << 16)}. Scalar path and Vector API path side by side; the
 * vector path lives in the nested {@code Vec} class, loaded only when used.
 */
public final class BF16Matrix extends SegmentMatrix {
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LONG_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public BF16Matrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    BF16Matrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, 2, vector);
    }

    @Override
    String dtypeName() {
        return "BF16";
    }

    /** Exact bf16 -> float32. */
    public static float toFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    static float at(MemorySegment seg, long byteOffset) {
        return Float.intBitsToFloat(seg.get(SHORT_LE, byteOffset) << 16);
    }

    @Override
    public void matvec(float[] x, int xOff, float[] out, int outOff, int rowStart, int rowEnd) {
        checkRows(rowStart, rowEnd);
        if (vector) {
            Vec.matvec(data, cols, x, xOff, out, outOff, rowStart, rowEnd);
        } else {
            matvecScalar(x, xOff, out, outOff, rowStart, rowEnd);
        }
    }

    @Override
    public void matmul(float[] x, int n, float[] out, int outStride, int rowStart, int rowEnd) {
        checkRows(rowStart, rowEnd);
        if (vector) {
            Vec.matmul(data, cols, x, n, out, outStride, rowStart, rowEnd);
        } else {
            matmulScalar(x, n, out, outStride, rowStart, rowEnd);
        }
    }

    @Override
    public void readRow(int row, float[] dst, int dstOff) {
        checkRows(row, row + 1);
        long base = (long) row * cols * 2;
        for (int c = 0; c < cols; c++) {
            dst[dstOff + c] = at(data, base + 2L * c);
        }
    }

    // ---- scalar reference ----

    private void matvecScalar(float[] x, int xOff, float[] out, int outOff, int rowStart, int rowEnd) {
        for (int r = rowStart; r < rowEnd; r++) {
            long base = (long) r * cols * 2;
            float acc = 0f;
            for (int c = 0; c < cols; c++) {
                acc += at(data, base + 2L * c) * x[xOff + c];
            }
            out[outOff + r] = acc;
        }
    }

    // ---- Vector API ----

    private static final class Vec {
        private static final int L = VecOps.L;
        private static final int BLOCK = VecOps.BLOCK;

        /**
         * Four sequential streams per thread: the row range is cut in four quarters and one row
         * of each is read per pass. Measured single-thread from DRAM on the 2-core EPYC:
         * one stream (one row at a time) ~13.5 GB/s, four adjacent rows ~8.6 GB/s, four
         * quarter-apart rows ~19 GB/s. Leftover rows (range % 4) go one at a time.
         */
        static void matvec(MemorySegment seg, int cols, float[] x, int xOff, float[] out, int outOff, int r0, int r1) {
            Scratch sc = Scratch.get();
            float[] xp = sc.x(cols);
            float[] lanes = sc.t(VecOps.L);
            VecOps.permute(x, xOff, cols, xp, 0);
            int main = VecOps.pairMain(cols);
            long rb = 2L * cols;
            int q = (r1 - r0) / 4;
            long qb = q * rb;
            for (int r = r0; r < r0 + q; r++) {
                long b = r * rb;
                FloatVector a0 = FloatVector.zero(VecOps.F), a1 = FloatVector.zero(VecOps.F);
                FloatVector a2 = FloatVector.zero(VecOps.F), a3 = FloatVector.zero(VecOps.F);
                for (int c = 0; c < main; c += BLOCK) {
                    FloatVector x0 = FloatVector.fromArray(VecOps.F, xp, c);
                    FloatVector x1 = FloatVector.fromArray(VecOps.F, xp, c + L);
                    long o = b + 2L * c;
                    IntVector w = IntVector.fromMemorySegment(VecOps.I, seg, o, ByteOrder.LITTLE_ENDIAN);
                    a0 = VecOps.bf16High(w).fma(x1, VecOps.bf16Low(w).fma(x0, a0));
                    w = IntVector.fromMemorySegment(VecOps.I, seg, o + qb, ByteOrder.LITTLE_ENDIAN);
                    a1 = VecOps.bf16High(w).fma(x1, VecOps.bf16Low(w).fma(x0, a1));
                    w = IntVector.fromMemorySegment(VecOps.I, seg, o + 2 * qb, ByteOrder.LITTLE_ENDIAN);
                    a2 = VecOps.bf16High(w).fma(x1, VecOps.bf16Low(w).fma(x0, a2));
                    w = IntVector.fromMemorySegment(VecOps.I, seg, o + 3 * qb, ByteOrder.LITTLE_ENDIAN);
                    a3 = VecOps.bf16High(w).fma(x1, VecOps.bf16Low(w).fma(x0, a3));
                }
                a0.intoArray(lanes, 0);
                float d0 = VecOps.sumLanes(lanes, 0);
                a1.intoArray(lanes, 0);
                float d1 = VecOps.sumLanes(lanes, 0);
                a2.intoArray(lanes, 0);
                float d2 = VecOps.sumLanes(lanes, 0);
                a3.intoArray(lanes, 0);
                float d3 = VecOps.sumLanes(lanes, 0);
                for (int c = main; c < cols; c++) {
                    float xv = xp[c];
                    long o = b + 2L * c;
                    d0 += at(seg, o) * xv;
                    d1 += at(seg, o + qb) * xv;
                    d2 += at(seg, o + 2 * qb) * xv;
                    d3 += at(seg, o + 3 * qb) * xv;
                }
                out[outOff + r] = d0;
                out[outOff + r + q] = d1;
                out[outOff + r + 2 * q] = d2;
                out[outOff + r + 3 * q] = d3;
            }
            if (r0 + 4 * q < r1) {
                matvecRows(seg, cols, xp, 0, out, outOff, r0 + 4 * q, r1);
            }
        }

        /** One row at a time, on x already in pair layout (xOff ignored: 0). */
        private static void matvecRows(MemorySegment seg, int cols, float[] x, int xOff, float[] out, int outOff, int r0, int r1) {
            float[] xp = x; // already in pair layout
            float[] lanes = Scratch.get().t(VecOps.L);
            int main = VecOps.pairMain(cols);
            int main2 = cols - cols % (2 * BLOCK);
            long rb = 2L * cols;
            for (int r = r0; r < r1; r++) {
                long b = r * rb;
                FloatVector a0 = FloatVector.zero(VecOps.F), a1 = FloatVector.zero(VecOps.F);
                FloatVector a2 = FloatVector.zero(VecOps.F), a3 = FloatVector.zero(VecOps.F);
                int c = 0;
                for (; c < main2; c += 2 * BLOCK) {
                    long o = b + 2L * c;
                    IntVector w0 = IntVector.fromMemorySegment(VecOps.I, seg, o, ByteOrder.LITTLE_ENDIAN);
                    IntVector w1 = IntVector.fromMemorySegment(VecOps.I, seg, o + 2 * BLOCK, ByteOrder.LITTLE_ENDIAN);
                    a0 = VecOps.bf16Low(w0).fma(FloatVector.fromArray(VecOps.F, xp, c), a0);
                    a1 = VecOps.bf16High(w0).fma(FloatVector.fromArray(VecOps.F, xp, c + L), a1);
                    a2 = VecOps.bf16Low(w1).fma(FloatVector.fromArray(VecOps.F, xp, c + BLOCK), a2);
                    a3 = VecOps.bf16High(w1).fma(FloatVector.fromArray(VecOps.F, xp, c + BLOCK + L), a3);
                }
                for (; c < main; c += BLOCK) {
                    IntVector w0 = IntVector.fromMemorySegment(VecOps.I, seg, b + 2L * c, ByteOrder.LITTLE_ENDIAN);
                    a0 = VecOps.bf16Low(w0).fma(FloatVector.fromArray(VecOps.F, xp, c), a0);
                    a1 = VecOps.bf16High(w0).fma(FloatVector.fromArray(VecOps.F, xp, c + L), a1);
                }
                a0.add(a1).add(a2.add(a3)).intoArray(lanes, 0);
                float d = VecOps.sumLanes(lanes, 0);
                for (; c < cols; c++) {
                    d += at(seg, b + 2L * c) * xp[c];
                }
                out[outOff + r] = d;
            }
        }

        /**
         * {@code wt[c*TILE + j] = w[row j of the tile at byte offset base][c]}, reading 4 columns
         * of each row per 8-byte load.
         */
        private static void widenTransposed(MemorySegment seg, int cols, long base, long rb, float[] wt) {
            final int t = VecOps.TILE;
            int c4 = cols & ~3;
            for (int c = 0; c < c4; c += 4) {
                long o = base + 2L * c;
                int d = c * t;
                for (int j = 0; j < t; j++) {
                    long v = seg.get(LONG_LE, o + j * rb);
                    int lo = (int) v;
                    int hi = (int) (v >>> 32);
                    wt[d + j] = Float.intBitsToFloat(lo << 16);
                    wt[d + t + j] = Float.intBitsToFloat(lo & 0xFFFF0000);
                    wt[d + 2 * t + j] = Float.intBitsToFloat(hi << 16);
                    wt[d + 3 * t + j] = Float.intBitsToFloat(hi & 0xFFFF0000);
                }
            }
            for (int c = c4; c < cols; c++) {
                long o = base + 2L * c;
                int d = c * t;
                for (int j = 0; j < t; j++) {
                    wt[d + j] = at(seg, o + j * rb);
                }
            }
        }

        /** Widens row r into dst[dOff ..) in pair layout (see {@link VecOps}). */
        static void widenPair(MemorySegment seg, int cols, int r, float[] dst, int dOff) {
            long base = 2L * cols * r;
            int main = VecOps.pairMain(cols);
            for (int c = 0; c < main; c += BLOCK) {
                IntVector w = IntVector.fromMemorySegment(VecOps.I, seg, base + 2L * c, ByteOrder.LITTLE_ENDIAN);
                VecOps.bf16Low(w).intoArray(dst, dOff + c);
                VecOps.bf16High(w).intoArray(dst, dOff + c + L);
            }
            for (int c = main; c < cols; c++) {
                dst[dOff + c] = at(seg, base + 2L * c);
            }
        }

        /**
         * Batched product. With at least half as many rows as inputs, the inputs are transposed once
         * and groups of rows widened fast ({@link VecOps#matmulXT}); otherwise full tiles of
         * {@link VecOps#TILE} rows are widened transposed and run through the outer-product
         * kernel ({@link VecOps#tileT}); leftover rows use the dot-product tile.
         */
        static void matmul(MemorySegment seg, int cols, float[] x, int n, float[] out, int outStride, int r0, int r1) {
            if (n < 4) {
                for (int i = 0; i < n; i++) {
                    matvec(seg, cols, x, i * cols, out, i * outStride, r0, r1);
                }
                return;
            }
            if (2 * (r1 - r0) >= n) {
                VecOps.matmulXT((r, dst, off) -> widenPair(seg, cols, r, dst, off), true, cols, x, n, out, outStride, r0, r1);
                return;
            }
            final int t = VecOps.TILE;
            float[] wt = Scratch.get().w(t * cols);
            long rb = 2L * cols;
            int r = r0;
            for (; r + t <= r1; r += t) {
                long base = r * rb;
                widenTransposed(seg, cols, base, rb, wt);
                VecOps.tileT(wt, cols, x, n, out, outStride, r);
            }
            for (; r < r1; r += 4) {
                int k = Math.min(4, r1 - r);
                for (int j = 0; j < k; j++) {
                    long base = (r + j) * rb;
                    for (int c = 0; c < cols; c++) {
                        wt[j * cols + c] = at(seg, base + 2L * c);
                    }
                }
                VecOps.tile(wt, k, cols, x, n, out, outStride, r);
            }
        }
    }
}

package dev.rudder.runtime.tensor;

import java.lang.foreign.MemorySegment;

/**
 * IEEE binary16 weights, little-endian, row-major. Widening is exact: {@link Float#float16ToFloat}
 * on both paths. The incubating Vector API of JDK 25 has no half-float conversion operator, and a
 * bit-level one is too big for C2 to inline in a matvec loop; instead the vector path widens a
 * row at a time with a plain loop that C2 intrinsifies and auto-vectorizes (vcvtph2ps), then uses
 * Vector API dot products and the shared matmul kernels of {@link VecOps}.
 */
public final class F16Matrix extends SegmentMatrix {

    public F16Matrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    F16Matrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, 2, vector);
    }

    @Override
    String dtypeName() {
        return "F16";
    }

    static float at(MemorySegment seg, long byteOffset) {
        return Float.float16ToFloat(seg.get(BF16Matrix.SHORT_LE, byteOffset));
    }

    @Override
    public void matvec(float[] x, int xOff, float[] out, int outOff, int rowStart, int rowEnd) {
        checkRows(rowStart, rowEnd);
        if (vector) {
            Vec.matvec(data, cols, x, xOff, out, outOff, rowStart, rowEnd);
        } else {
            for (int r = rowStart; r < rowEnd; r++) {
                long base = (long) r * cols * 2;
                float acc = 0f;
                for (int c = 0; c < cols; c++) {
                    acc += at(data, base + 2L * c) * x[xOff + c];
                }
                out[outOff + r] = acc;
            }
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

    private static final class Vec {

        /**
         * One row at a time: bulk copy of the row's halves into a short[] scratch, widening by a
         * plain {@link Float#float16ToFloat} loop (C2 intrinsifies and auto-vectorizes it to
         * vcvtph2ps), then a Vector API dot product. Measured ~3x faster than a bit-level
         * Vector API conversion, whose size also defeats C2's inlining in a matvec loop.
         */
        static void matvec(MemorySegment seg, int cols, float[] x, int xOff, float[] out, int outOff, int r0, int r1) {
            Scratch sc = Scratch.get();
            short[] h = sc.h(cols);
            float[] w = sc.w(cols);
            float[] lanes = sc.t(VecOps.L);
            for (int r = r0; r < r1; r++) {
                widenRow(seg, cols, r, h, w, 0);
                out[outOff + r] = VecOps.dot(w, 0, x, xOff, cols, lanes);
            }
        }

        /** Row r widened into dst[dOff ..) in natural order, via the short[] scratch h. */
        static void widenRow(MemorySegment seg, int cols, int r, short[] h, float[] dst, int dOff) {
            MemorySegment.copy(seg, BF16Matrix.SHORT_LE, 2L * cols * r, h, 0, cols);
            widen(h, dst, dOff, cols);
        }

        /** The auto-vectorized conversion loop; package-visible through {@link F16Matrix#widenForTest}. */
        static void widen(short[] h, float[] dst, int dOff, int n) {
            for (int i = 0; i < n; i++) {
                dst[dOff + i] = Float.float16ToFloat(h[i]);
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
                    long v = seg.get(BF16Matrix.LONG_LE, o + j * rb);
                    int lo = (int) v;
                    int hi = (int) (v >>> 32);
                    wt[d + j] = Float.float16ToFloat((short) lo);
                    wt[d + t + j] = Float.float16ToFloat((short) (lo >>> 16));
                    wt[d + 2 * t + j] = Float.float16ToFloat((short) hi);
                    wt[d + 3 * t + j] = Float.float16ToFloat((short) (hi >>> 16));
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
                short[] h = Scratch.get().h(cols);
                VecOps.matmulXT((r, dst, off) -> widenRow(seg, cols, r, h, dst, off), false, cols, x, n, out, outStride, r0, r1);
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

    /** Test hook: the vector path's widening loop. */
    static void widenForTest(short[] h, float[] dst) {
        Vec.widen(h, dst, 0, h.length);
    }
}

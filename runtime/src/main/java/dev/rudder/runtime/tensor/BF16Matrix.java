package dev.rudder.runtime.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

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

    private void matmulScalar(float[] x, int n, float[] out, int outStride, int rowStart, int rowEnd) {
        float[] w = Scratch.get().w(cols);
        for (int r = rowStart; r < rowEnd; r++) {
            readRow(r, w, 0);
            for (int i = 0; i < n; i++) {
                int xa = i * cols;
                float acc = 0f;
                for (int c = 0; c < cols; c++) {
                    acc += w[c] * x[xa + c];
                }
                out[i * outStride + r] = acc;
            }
        }
    }

    // ---- Vector API ----

    private static final class Vec {
        private static final int L = VecOps.L;
        private static final int BLOCK = VecOps.BLOCK;

        static void matvec(MemorySegment seg, int cols, float[] x, int xOff, float[] out, int outOff, int r0, int r1) {
            float[] xp = Scratch.get().x(cols);
            VecOps.permute(x, xOff, cols, xp, 0);
            int main = VecOps.pairMain(cols);
            long rb = 2L * cols;
            int r = r0;
            for (; r + 4 <= r1; r += 4) {
                long b0 = r * rb;
                long b1 = b0 + rb;
                long b2 = b1 + rb;
                long b3 = b2 + rb;
                FloatVector s0l = FloatVector.zero(VecOps.F), s0h = FloatVector.zero(VecOps.F);
                FloatVector s1l = FloatVector.zero(VecOps.F), s1h = FloatVector.zero(VecOps.F);
                FloatVector s2l = FloatVector.zero(VecOps.F), s2h = FloatVector.zero(VecOps.F);
                FloatVector s3l = FloatVector.zero(VecOps.F), s3h = FloatVector.zero(VecOps.F);
                for (int c = 0; c < main; c += BLOCK) {
                    FloatVector xl = FloatVector.fromArray(VecOps.F, xp, c);
                    FloatVector xh = FloatVector.fromArray(VecOps.F, xp, c + L);
                    long cb = 2L * c;
                    IntVector w = IntVector.fromMemorySegment(VecOps.I, seg, b0 + cb, ByteOrder.LITTLE_ENDIAN);
                    s0l = VecOps.bf16Low(w).fma(xl, s0l);
                    s0h = VecOps.bf16High(w).fma(xh, s0h);
                    w = IntVector.fromMemorySegment(VecOps.I, seg, b1 + cb, ByteOrder.LITTLE_ENDIAN);
                    s1l = VecOps.bf16Low(w).fma(xl, s1l);
                    s1h = VecOps.bf16High(w).fma(xh, s1h);
                    w = IntVector.fromMemorySegment(VecOps.I, seg, b2 + cb, ByteOrder.LITTLE_ENDIAN);
                    s2l = VecOps.bf16Low(w).fma(xl, s2l);
                    s2h = VecOps.bf16High(w).fma(xh, s2h);
                    w = IntVector.fromMemorySegment(VecOps.I, seg, b3 + cb, ByteOrder.LITTLE_ENDIAN);
                    s3l = VecOps.bf16Low(w).fma(xl, s3l);
                    s3h = VecOps.bf16High(w).fma(xh, s3h);
                }
                float d0 = s0l.add(s0h).reduceLanes(VectorOperators.ADD);
                float d1 = s1l.add(s1h).reduceLanes(VectorOperators.ADD);
                float d2 = s2l.add(s2h).reduceLanes(VectorOperators.ADD);
                float d3 = s3l.add(s3h).reduceLanes(VectorOperators.ADD);
                for (int c = main; c < cols; c++) {
                    float xv = xp[c];
                    long cb = 2L * c;
                    d0 += at(seg, b0 + cb) * xv;
                    d1 += at(seg, b1 + cb) * xv;
                    d2 += at(seg, b2 + cb) * xv;
                    d3 += at(seg, b3 + cb) * xv;
                }
                out[outOff + r] = d0;
                out[outOff + r + 1] = d1;
                out[outOff + r + 2] = d2;
                out[outOff + r + 3] = d3;
            }
            for (; r < r1; r++) {
                long b0 = r * rb;
                FloatVector s0l = FloatVector.zero(VecOps.F), s0h = FloatVector.zero(VecOps.F);
                for (int c = 0; c < main; c += BLOCK) {
                    IntVector w = IntVector.fromMemorySegment(VecOps.I, seg, b0 + 2L * c, ByteOrder.LITTLE_ENDIAN);
                    s0l = VecOps.bf16Low(w).fma(FloatVector.fromArray(VecOps.F, xp, c), s0l);
                    s0h = VecOps.bf16High(w).fma(FloatVector.fromArray(VecOps.F, xp, c + L), s0h);
                }
                float d0 = s0l.add(s0h).reduceLanes(VectorOperators.ADD);
                for (int c = main; c < cols; c++) {
                    d0 += at(seg, b0 + 2L * c) * xp[c];
                }
                out[outOff + r] = d0;
            }
        }

        /** Widens row r into dst[dOff ..) in pair layout. */
        static void widen(MemorySegment seg, int cols, int r, float[] dst, int dOff) {
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

        static void matmul(MemorySegment seg, int cols, float[] x, int n, float[] out, int outStride, int r0, int r1) {
            Scratch sc = Scratch.get();
            float[] xp = sc.x(n * cols);
            for (int i = 0; i < n; i++) {
                VecOps.permute(x, i * cols, cols, xp, i * cols);
            }
            float[] wt = sc.w(4 * cols);
            for (int r = r0; r < r1; r += 4) {
                int k = Math.min(4, r1 - r);
                for (int j = 0; j < k; j++) {
                    widen(seg, cols, r + j, wt, j * cols);
                }
                VecOps.tile(wt, k, cols, xp, n, out, outStride, r);
            }
        }
    }
}

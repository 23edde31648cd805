package dev.rudder.runtime.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * IEEE binary16 weights, little-endian, row-major. Widening is exact ({@link Float#float16ToFloat}
 * on the scalar path, an equivalent bit-level conversion on the vector path: the incubating Vector
 * API of JDK 25 has no half-float conversion operator). Scalar and Vector API paths side by side.
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
        private static final int L = VecOps.L;
        private static final int BLOCK = VecOps.BLOCK;

        static void matvec(MemorySegment seg, int cols, float[] x, int xOff, float[] out, int outOff, int r0, int r1) {
            float[] xp = Scratch.get().x(cols);
            VecOps.permute(x, xOff, cols, xp, 0);
            int main = VecOps.pairMain(cols);
            long rb = 2L * cols;
            int r = r0;
            for (; r + 2 <= r1; r += 2) {
                long b0 = r * rb;
                long b1 = b0 + rb;
                FloatVector s0l = FloatVector.zero(VecOps.F), s0h = FloatVector.zero(VecOps.F);
                FloatVector s1l = FloatVector.zero(VecOps.F), s1h = FloatVector.zero(VecOps.F);
                for (int c = 0; c < main; c += BLOCK) {
                    FloatVector xl = FloatVector.fromArray(VecOps.F, xp, c);
                    FloatVector xh = FloatVector.fromArray(VecOps.F, xp, c + L);
                    long cb = 2L * c;
                    IntVector w = IntVector.fromMemorySegment(VecOps.I, seg, b0 + cb, ByteOrder.LITTLE_ENDIAN);
                    s0l = VecOps.f16Low(w).fma(xl, s0l);
                    s0h = VecOps.f16High(w).fma(xh, s0h);
                    w = IntVector.fromMemorySegment(VecOps.I, seg, b1 + cb, ByteOrder.LITTLE_ENDIAN);
                    s1l = VecOps.f16Low(w).fma(xl, s1l);
                    s1h = VecOps.f16High(w).fma(xh, s1h);
                }
                float d0 = s0l.add(s0h).reduceLanes(VectorOperators.ADD);
                float d1 = s1l.add(s1h).reduceLanes(VectorOperators.ADD);
                for (int c = main; c < cols; c++) {
                    float xv = xp[c];
                    d0 += at(seg, b0 + 2L * c) * xv;
                    d1 += at(seg, b1 + 2L * c) * xv;
                }
                out[outOff + r] = d0;
                out[outOff + r + 1] = d1;
            }
            for (; r < r1; r++) {
                long b0 = r * rb;
                FloatVector s0l = FloatVector.zero(VecOps.F), s0h = FloatVector.zero(VecOps.F);
                for (int c = 0; c < main; c += BLOCK) {
                    IntVector w = IntVector.fromMemorySegment(VecOps.I, seg, b0 + 2L * c, ByteOrder.LITTLE_ENDIAN);
                    s0l = VecOps.f16Low(w).fma(FloatVector.fromArray(VecOps.F, xp, c), s0l);
                    s0h = VecOps.f16High(w).fma(FloatVector.fromArray(VecOps.F, xp, c + L), s0h);
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
                VecOps.f16Low(w).intoArray(dst, dOff + c);
                VecOps.f16High(w).intoArray(dst, dOff + c + L);
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

package dev.rudder.runtime.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * float32 weights, little-endian, row-major, over a read-only segment (mapped file slice or a heap
 * float array). Scalar path and Vector API path side by side; the vector path lives in the nested
 * {@code Vec} class, loaded only when used.
 */
public final class F32Matrix extends SegmentMatrix {
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public F32Matrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    F32Matrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, 4, vector);
    }

    @Override
    String dtypeName() {
        return "F32";
    }

    @Override
    public void matvec(float[] x, int xOff, float[] out, int outOff, int rowStart, int rowEnd) {
        checkRows(rowStart, rowEnd);
        if (vector) {
            Vec.matvec(data, cols, x, xOff, out, outOff, rowStart, rowEnd);
        } else {
            for (int r = rowStart; r < rowEnd; r++) {
                long base = (long) r * cols * 4;
                float acc = 0f;
                for (int c = 0; c < cols; c++) {
                    acc += data.get(FLOAT_LE, base + 4L * c) * x[xOff + c];
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
        MemorySegment.copy(data, FLOAT_LE, (long) row * cols * 4, dst, dstOff, cols);
    }

    private static final class Vec {
        private static final int L = VecOps.L;

        static void matvec(MemorySegment seg, int cols, float[] x, int xOff, float[] out, int outOff, int r0, int r1) {
            int main = VecOps.F.loopBound(cols);
            long rb = 4L * cols;
            int r = r0;
            for (; r + 4 <= r1; r += 4) {
                long b0 = r * rb;
                long b1 = b0 + rb;
                long b2 = b1 + rb;
                long b3 = b2 + rb;
                FloatVector s0 = FloatVector.zero(VecOps.F), s1 = FloatVector.zero(VecOps.F);
                FloatVector s2 = FloatVector.zero(VecOps.F), s3 = FloatVector.zero(VecOps.F);
                for (int c = 0; c < main; c += L) {
                    FloatVector xv = FloatVector.fromArray(VecOps.F, x, xOff + c);
                    long cb = 4L * c;
                    s0 = FloatVector.fromMemorySegment(VecOps.F, seg, b0 + cb, ByteOrder.LITTLE_ENDIAN).fma(xv, s0);
                    s1 = FloatVector.fromMemorySegment(VecOps.F, seg, b1 + cb, ByteOrder.LITTLE_ENDIAN).fma(xv, s1);
                    s2 = FloatVector.fromMemorySegment(VecOps.F, seg, b2 + cb, ByteOrder.LITTLE_ENDIAN).fma(xv, s2);
                    s3 = FloatVector.fromMemorySegment(VecOps.F, seg, b3 + cb, ByteOrder.LITTLE_ENDIAN).fma(xv, s3);
                }
                float d0 = s0.reduceLanes(VectorOperators.ADD);
                float d1 = s1.reduceLanes(VectorOperators.ADD);
                float d2 = s2.reduceLanes(VectorOperators.ADD);
                float d3 = s3.reduceLanes(VectorOperators.ADD);
                for (int c = main; c < cols; c++) {
                    float xv = x[xOff + c];
                    long cb = 4L * c;
                    d0 += seg.get(FLOAT_LE, b0 + cb) * xv;
                    d1 += seg.get(FLOAT_LE, b1 + cb) * xv;
                    d2 += seg.get(FLOAT_LE, b2 + cb) * xv;
                    d3 += seg.get(FLOAT_LE, b3 + cb) * xv;
                }
                out[outOff + r] = d0;
                out[outOff + r + 1] = d1;
                out[outOff + r + 2] = d2;
                out[outOff + r + 3] = d3;
            }
            for (; r < r1; r++) {
                long b0 = r * rb;
                FloatVector s0 = FloatVector.zero(VecOps.F), s1 = FloatVector.zero(VecOps.F);
                int c = 0;
                for (; c + 2 * L <= main; c += 2 * L) {
                    s0 = FloatVector.fromMemorySegment(VecOps.F, seg, b0 + 4L * c, ByteOrder.LITTLE_ENDIAN)
                            .fma(FloatVector.fromArray(VecOps.F, x, xOff + c), s0);
                    s1 = FloatVector.fromMemorySegment(VecOps.F, seg, b0 + 4L * (c + L), ByteOrder.LITTLE_ENDIAN)
                            .fma(FloatVector.fromArray(VecOps.F, x, xOff + c + L), s1);
                }
                for (; c < main; c += L) {
                    s0 = FloatVector.fromMemorySegment(VecOps.F, seg, b0 + 4L * c, ByteOrder.LITTLE_ENDIAN)
                            .fma(FloatVector.fromArray(VecOps.F, x, xOff + c), s0);
                }
                float d0 = s0.add(s1).reduceLanes(VectorOperators.ADD);
                for (; c < cols; c++) {
                    d0 += seg.get(FLOAT_LE, b0 + 4L * c) * x[xOff + c];
                }
                out[outOff + r] = d0;
            }
        }

        static void matmul(MemorySegment seg, int cols, float[] x, int n, float[] out, int outStride, int r0, int r1) {
            float[] wt = Scratch.get().w(4 * cols);
            for (int r = r0; r < r1; r += 4) {
                int k = Math.min(4, r1 - r);
                MemorySegment.copy(seg, FLOAT_LE, 4L * cols * r, wt, 0, k * cols);
                VecOps.tile(wt, k, cols, x, n, out, outStride, r);
            }
        }
    }
}

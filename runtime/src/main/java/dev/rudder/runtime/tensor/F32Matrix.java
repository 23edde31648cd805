package dev.rudder.runtime.tensor;

import jdk.incubator.vector.FloatVector;

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
            matmulScalar(x, n, out, outStride, rowStart, rowEnd);
        }
    }

    @Override
    public void readRow(int row, float[] dst, int dstOff) {
        checkRows(row, row + 1);
        MemorySegment.copy(data, FLOAT_LE, (long) row * cols * 4, dst, dstOff, cols);
    }

    private static final class Vec {
        private static final int L = VecOps.L;

        /**
         * Four sequential streams per thread: the row range is cut in four quarters and one row
         * of each is read per pass. Measured single-thread from DRAM on the 2-core EPYC:
         * one stream (one row at a time) ~13.5 GB/s, four adjacent rows ~8.6 GB/s, four
         * quarter-apart rows ~19 GB/s. Leftover rows (range % 4) go one at a time.
         */
        static void matvec(MemorySegment seg, int cols, float[] x, int xOff, float[] out, int outOff, int r0, int r1) {
            float[] lanes = Scratch.get().t(VecOps.L);
            int main = VecOps.F.loopBound(cols);
            long rb = 4L * cols;
            int q = (r1 - r0) / 4;
            long qb = q * rb;
            for (int r = r0; r < r0 + q; r++) {
                long b = r * rb;
                FloatVector a0 = FloatVector.zero(VecOps.F), a1 = FloatVector.zero(VecOps.F);
                FloatVector a2 = FloatVector.zero(VecOps.F), a3 = FloatVector.zero(VecOps.F);
                for (int c = 0; c < main; c += L) {
                    FloatVector xv = FloatVector.fromArray(VecOps.F, x, xOff + c);
                    long o = b + 4L * c;
                    a0 = FloatVector.fromMemorySegment(VecOps.F, seg, o, ByteOrder.LITTLE_ENDIAN).fma(xv, a0);
                    a1 = FloatVector.fromMemorySegment(VecOps.F, seg, o + qb, ByteOrder.LITTLE_ENDIAN).fma(xv, a1);
                    a2 = FloatVector.fromMemorySegment(VecOps.F, seg, o + 2 * qb, ByteOrder.LITTLE_ENDIAN).fma(xv, a2);
                    a3 = FloatVector.fromMemorySegment(VecOps.F, seg, o + 3 * qb, ByteOrder.LITTLE_ENDIAN).fma(xv, a3);
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
                    float xv = x[xOff + c];
                    long o = b + 4L * c;
                    d0 += seg.get(FLOAT_LE, o) * xv;
                    d1 += seg.get(FLOAT_LE, o + qb) * xv;
                    d2 += seg.get(FLOAT_LE, o + 2 * qb) * xv;
                    d3 += seg.get(FLOAT_LE, o + 3 * qb) * xv;
                }
                out[outOff + r] = d0;
                out[outOff + r + q] = d1;
                out[outOff + r + 2 * q] = d2;
                out[outOff + r + 3 * q] = d3;
            }
            if (r0 + 4 * q < r1) {
                matvecRows(seg, cols, x, xOff, out, outOff, r0 + 4 * q, r1);
            }
        }

        /** One row at a time. */
        private static void matvecRows(MemorySegment seg, int cols, float[] x, int xOff, float[] out, int outOff, int r0, int r1) {
            float[] lanes = Scratch.get().t(VecOps.L);
            int main = VecOps.F.loopBound(cols);
            int main4 = cols - cols % (4 * L);
            long rb = 4L * cols;
            for (int r = r0; r < r1; r++) {
                long b = r * rb;
                FloatVector a0 = FloatVector.zero(VecOps.F), a1 = FloatVector.zero(VecOps.F);
                FloatVector a2 = FloatVector.zero(VecOps.F), a3 = FloatVector.zero(VecOps.F);
                int c = 0;
                for (; c < main4; c += 4 * L) {
                    long o = b + 4L * c;
                    a0 = FloatVector.fromMemorySegment(VecOps.F, seg, o, ByteOrder.LITTLE_ENDIAN)
                            .fma(FloatVector.fromArray(VecOps.F, x, xOff + c), a0);
                    a1 = FloatVector.fromMemorySegment(VecOps.F, seg, o + 4 * L, ByteOrder.LITTLE_ENDIAN)
                            .fma(FloatVector.fromArray(VecOps.F, x, xOff + c + L), a1);
                    a2 = FloatVector.fromMemorySegment(VecOps.F, seg, o + 8 * L, ByteOrder.LITTLE_ENDIAN)
                            .fma(FloatVector.fromArray(VecOps.F, x, xOff + c + 2 * L), a2);
                    a3 = FloatVector.fromMemorySegment(VecOps.F, seg, o + 12 * L, ByteOrder.LITTLE_ENDIAN)
                            .fma(FloatVector.fromArray(VecOps.F, x, xOff + c + 3 * L), a3);
                }
                for (; c < main; c += L) {
                    a0 = FloatVector.fromMemorySegment(VecOps.F, seg, b + 4L * c, ByteOrder.LITTLE_ENDIAN)
                            .fma(FloatVector.fromArray(VecOps.F, x, xOff + c), a0);
                }
                a0.add(a1).add(a2.add(a3)).intoArray(lanes, 0);
                float d = VecOps.sumLanes(lanes, 0);
                for (; c < cols; c++) {
                    d += seg.get(FLOAT_LE, b + 4L * c) * x[xOff + c];
                }
                out[outOff + r] = d;
            }
        }

        /** Transposed tiles through the outer-product kernel; leftover rows use the dot-product tile. */
        static void matmul(MemorySegment seg, int cols, float[] x, int n, float[] out, int outStride, int r0, int r1) {
            if (n < 4) {
                for (int i = 0; i < n; i++) {
                    matvec(seg, cols, x, i * cols, out, i * outStride, r0, r1);
                }
                return;
            }
            if (2 * (r1 - r0) >= n) {
                VecOps.matmulXT((r, dst, off) -> MemorySegment.copy(seg, FLOAT_LE, 4L * cols * r, dst, off, cols),
                        false, cols, x, n, out, outStride, r0, r1);
                return;
            }
            final int t = VecOps.TILE;
            float[] wt = Scratch.get().w(t * cols);
            long rb = 4L * cols;
            int r = r0;
            for (; r + t <= r1; r += t) {
                long base = r * rb;
                for (int c = 0; c < cols; c++) {
                    long o = base + 4L * c;
                    int d = c * t;
                    for (int j = 0; j < t; j++) {
                        wt[d + j] = seg.get(FLOAT_LE, o + j * rb);
                    }
                }
                VecOps.tileT(wt, cols, x, n, out, outStride, r);
            }
            for (; r < r1; r += 4) {
                int k = Math.min(4, r1 - r);
                MemorySegment.copy(seg, FLOAT_LE, r * rb, wt, 0, k * cols);
                VecOps.tile(wt, k, cols, x, n, out, outStride, r);
            }
        }
    }
}

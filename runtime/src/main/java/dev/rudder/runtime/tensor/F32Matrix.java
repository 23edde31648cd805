package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.rudder.runtime.kernel.Vectors.F;
import static dev.rudder.runtime.kernel.Vectors.sumLanes;

/**
 * float32 weights, little-endian, row-major, over a read-only segment (mapped file slice or a heap
 * float array). The vector kernel lives in the nested {@code Vec} class, loaded only when used.
 */
public final class F32Matrix extends SegmentMatrix {
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    public F32Matrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    F32Matrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, 4L * cols, vector);
    }

    @Override
    public DType dtype() {
        return DType.F32;
    }

    @Override
    void rowToFloats(int row, float[] dst, int off) {
        MemorySegment.copy(data, FLOAT_LE, 4L * cols * row, dst, off, cols);
    }

    @Override
    RowKernel vectorKernel() {
        return new Vec(data, cols);
    }

    /**
     * One FMA chain per row over L-column vectors, then the fixed-order lane sum, then the tail in order;
     * {@code dot4x4} runs sixteen such chains (four rows, four inputs), each weight vector loaded once.
     */
    private static final class Vec implements RowKernel {
        private static final int L = F.length();
        private final MemorySegment seg;
        private final int cols;
        private final long rowBytes;
        private final int main;

        Vec(MemorySegment seg, int cols) {
            this.seg = seg;
            this.cols = cols;
            this.rowBytes = 4L * cols;
            this.main = F.loopBound(cols);
        }

        @Override
        public void dot4(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] res) {
            long b0 = r0 * rowBytes, b1 = r1 * rowBytes, b2 = r2 * rowBytes, b3 = r3 * rowBytes;
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            for (int c = 0; c < main; c += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xOff + c);
                long o = 4L * c;
                a0 = FloatVector.fromMemorySegment(F, seg, b0 + o, ByteOrder.LITTLE_ENDIAN).fma(xv, a0);
                a1 = FloatVector.fromMemorySegment(F, seg, b1 + o, ByteOrder.LITTLE_ENDIAN).fma(xv, a1);
                a2 = FloatVector.fromMemorySegment(F, seg, b2 + o, ByteOrder.LITTLE_ENDIAN).fma(xv, a2);
                a3 = FloatVector.fromMemorySegment(F, seg, b3 + o, ByteOrder.LITTLE_ENDIAN).fma(xv, a3);
            }
            float[] lanes = Scratch.get().t(L);
            a0.intoArray(lanes, 0);
            float d0 = sumLanes(lanes, 0);
            a1.intoArray(lanes, 0);
            float d1 = sumLanes(lanes, 0);
            a2.intoArray(lanes, 0);
            float d2 = sumLanes(lanes, 0);
            a3.intoArray(lanes, 0);
            float d3 = sumLanes(lanes, 0);
            for (int c = main; c < cols; c++) {
                float xv = x[xOff + c];
                long o = 4L * c;
                d0 += seg.get(FLOAT_LE, b0 + o) * xv;
                d1 += seg.get(FLOAT_LE, b1 + o) * xv;
                d2 += seg.get(FLOAT_LE, b2 + o) * xv;
                d3 += seg.get(FLOAT_LE, b3 + o) * xv;
            }
            res[0] = d0;
            res[1] = d1;
            res[2] = d2;
            res[3] = d3;
        }

        @Override
        public void dot4x4(int r0, int r1, int r2, int r3, float[] x, int o0, int o1, int o2, int o3, float[] res) {
            dot4x2(r0, r1, r2, r3, x, o0, o1, res, 0);
            dot4x2(r0, r1, r2, r3, x, o2, o3, res, 2);
        }

        /**
         * Inputs {@code oa, ob} against four rows into {@code res[4*k + i + i0]}: eight FMA chains, each one
         * {@code dot1}'s. Two inputs per pass keep the loop small enough for C2 to inline every vector
         * operation (four inputs per pass hit its inlining node cutoff and boxed vectors); the second pass
         * finds the four rows in L1.
         */
        private void dot4x2(int r0, int r1, int r2, int r3, float[] x, int oa, int ob, float[] res, int i0) {
            long b0 = r0 * rowBytes, b1 = r1 * rowBytes, b2 = r2 * rowBytes, b3 = r3 * rowBytes;
            FloatVector a0a = FloatVector.zero(F), a0b = FloatVector.zero(F);
            FloatVector a1a = FloatVector.zero(F), a1b = FloatVector.zero(F);
            FloatVector a2a = FloatVector.zero(F), a2b = FloatVector.zero(F);
            FloatVector a3a = FloatVector.zero(F), a3b = FloatVector.zero(F);
            for (int c = 0; c < main; c += L) {
                FloatVector xa = FloatVector.fromArray(F, x, oa + c);
                FloatVector xb = FloatVector.fromArray(F, x, ob + c);
                long o = 4L * c;
                FloatVector w = FloatVector.fromMemorySegment(F, seg, b0 + o, ByteOrder.LITTLE_ENDIAN);
                a0a = w.fma(xa, a0a);
                a0b = w.fma(xb, a0b);
                w = FloatVector.fromMemorySegment(F, seg, b1 + o, ByteOrder.LITTLE_ENDIAN);
                a1a = w.fma(xa, a1a);
                a1b = w.fma(xb, a1b);
                w = FloatVector.fromMemorySegment(F, seg, b2 + o, ByteOrder.LITTLE_ENDIAN);
                a2a = w.fma(xa, a2a);
                a2b = w.fma(xb, a2b);
                w = FloatVector.fromMemorySegment(F, seg, b3 + o, ByteOrder.LITTLE_ENDIAN);
                a3a = w.fma(xa, a3a);
                a3b = w.fma(xb, a3b);
            }
            float[] lanes = Scratch.get().t(L);
            a0a.intoArray(lanes, 0);
            res[i0] = sumLanes(lanes, 0);
            a0b.intoArray(lanes, 0);
            res[1 + i0] = sumLanes(lanes, 0);
            a1a.intoArray(lanes, 0);
            res[4 + i0] = sumLanes(lanes, 0);
            a1b.intoArray(lanes, 0);
            res[5 + i0] = sumLanes(lanes, 0);
            a2a.intoArray(lanes, 0);
            res[8 + i0] = sumLanes(lanes, 0);
            a2b.intoArray(lanes, 0);
            res[9 + i0] = sumLanes(lanes, 0);
            a3a.intoArray(lanes, 0);
            res[12 + i0] = sumLanes(lanes, 0);
            a3b.intoArray(lanes, 0);
            res[13 + i0] = sumLanes(lanes, 0);
            for (int c = main; c < cols; c++) {
                long o = 4L * c;
                float xa = x[oa + c];
                float xb = x[ob + c];
                float w = seg.get(FLOAT_LE, b0 + o);
                res[i0] += w * xa;
                res[1 + i0] += w * xb;
                w = seg.get(FLOAT_LE, b1 + o);
                res[4 + i0] += w * xa;
                res[5 + i0] += w * xb;
                w = seg.get(FLOAT_LE, b2 + o);
                res[8 + i0] += w * xa;
                res[9 + i0] += w * xb;
                w = seg.get(FLOAT_LE, b3 + o);
                res[12 + i0] += w * xa;
                res[13 + i0] += w * xb;
            }
        }

        @Override
        public float dot1(int row, float[] x, int xOff) {
            long b = row * rowBytes;
            FloatVector a = FloatVector.zero(F);
            for (int c = 0; c < main; c += L) {
                a = FloatVector.fromMemorySegment(F, seg, b + 4L * c, ByteOrder.LITTLE_ENDIAN)
                        .fma(FloatVector.fromArray(F, x, xOff + c), a);
            }
            float[] lanes = Scratch.get().t(L);
            a.intoArray(lanes, 0);
            float d = sumLanes(lanes, 0);
            for (int c = main; c < cols; c++) {
                d += seg.get(FLOAT_LE, b + 4L * c) * x[xOff + c];
            }
            return d;
        }

        @Override
        public void widen(int row, float[] dst, int off) {
            MemorySegment.copy(seg, FLOAT_LE, row * rowBytes, dst, off, cols);
        }
    }
}

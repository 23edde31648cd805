package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.kernel.Vectors;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.rudder.runtime.kernel.Vectors.F;
import static dev.rudder.runtime.kernel.Vectors.laneSums;

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
     * {@code dot4xN} runs 4n such chains (four rows, n inputs), each weight vector loaded once per two inputs.
     */
    private static final class Vec implements RowKernel {
        private static final int L = F.length();
        private final MemorySegment seg;
        private final int cols;
        private final long rowBytes;
        private final int main;
        private final boolean intOffsets;   // every byte offset fits an int: the batch loop's loads use int offsets

        Vec(MemorySegment seg, int cols) {
            this.seg = seg;
            this.cols = cols;
            this.rowBytes = 4L * cols;
            this.main = F.loopBound(cols);
            this.intOffsets = seg.byteSize() <= Integer.MAX_VALUE;
        }

        @Override
        public void dot4(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] res) {
            if (!intOffsets) {
                dot4Wide(r0, r1, r2, r3, x, xOff, res);
                return;
            }
            // int offsets, as in BF16's dot4: C2 hoists the segment bounds checks out of the loop
            long b0 = r0 * rowBytes, b1 = r1 * rowBytes, b2 = r2 * rowBytes, b3 = r3 * rowBytes;
            int i0 = (int) b0, i1 = (int) b1, i2 = (int) b2, i3 = (int) b3;
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            for (int c = 0; c < main; c += L) {
                FloatVector xv = FloatVector.fromArray(F, x, xOff + c);
                int o = 4 * c;
                a0 = FloatVector.fromMemorySegment(F, seg, (long) (i0 + o), ByteOrder.LITTLE_ENDIAN).fma(xv, a0);
                a1 = FloatVector.fromMemorySegment(F, seg, (long) (i1 + o), ByteOrder.LITTLE_ENDIAN).fma(xv, a1);
                a2 = FloatVector.fromMemorySegment(F, seg, (long) (i2 + o), ByteOrder.LITTLE_ENDIAN).fma(xv, a2);
                a3 = FloatVector.fromMemorySegment(F, seg, (long) (i3 + o), ByteOrder.LITTLE_ENDIAN).fma(xv, a3);
            }
            float[] t = Scratch.get().t(4 * L);  // [4 rows, L lanes], then the 4 sums
            a0.intoArray(t, 0);
            a1.intoArray(t, L);
            a2.intoArray(t, 2 * L);
            a3.intoArray(t, 3 * L);
            sumsAndTails(t, x, xOff, b0, b1, b2, b3, res);
        }

        /** {@link #dot4} for a matrix of more than 2 GiB: the same operations over long byte offsets. */
        private void dot4Wide(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] res) {
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
            float[] t = Scratch.get().t(4 * L);  // [4 rows, L lanes], then the 4 sums
            a0.intoArray(t, 0);
            a1.intoArray(t, L);
            a2.intoArray(t, 2 * L);
            a3.intoArray(t, 3 * L);
            sumsAndTails(t, x, xOff, b0, b1, b2, b3, res);
        }

        /**
         * The end of {@link #dot4} (and its wide twin): the four rows' lane sums from {@code t} ([4 rows, L lanes]),
         * then the tail columns in order, into {@code res}.
         */
        private void sumsAndTails(float[] t, float[] x, int xOff, long b0, long b1, long b2, long b3, float[] res) {
            Vectors.laneSums4(t);
            float d0 = t[0], d1 = t[1], d2 = t[2], d3 = t[3];
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

        /**
         * Inputs two at a time against the four rows: per pass eight FMA chains, each one {@code dot1}'s, all
         * written to the lane scratch, then one {@link Vectors#laneSums} for the 4n results and the tails (as
         * BF16's; an odd last input is paired with itself, its copy discarded). Weight offsets are ints so that C2
         * hoists the bounds checks, as in BF16's; a matrix over 2 GiB takes the default, one {@link #dot4} per input.
         */
        @Override
        public void dot4xN(int r0, int r1, int r2, int r3, float[] x, int base, int stride, int n, float[] res) {
            if (!intOffsets) {
                RowKernel.super.dot4xN(r0, r1, r2, r3, x, base, stride, n, res);
                return;
            }
            int i0 = (int) (r0 * rowBytes), i1 = (int) (r1 * rowBytes), i2 = (int) (r2 * rowBytes), i3 = (int) (r3 * rowBytes);
            long b0 = i0, b1 = i1, b2 = i2, b3 = i3;
            int even = n + (n & 1);
            float[] t = Scratch.get().t(Vectors.laneSumSlots(4 * even) * L);  // [inputs, 4 rows, L lanes]
            for (int i = 0; i < n; i += 2) {
                int oa = base + i * stride;
                int ob = i + 1 < n ? oa + stride : oa;
                FloatVector a0a = FloatVector.zero(F), a0b = FloatVector.zero(F);
                FloatVector a1a = FloatVector.zero(F), a1b = FloatVector.zero(F);
                FloatVector a2a = FloatVector.zero(F), a2b = FloatVector.zero(F);
                FloatVector a3a = FloatVector.zero(F), a3b = FloatVector.zero(F);
                for (int c = 0; c < main; c += L) {
                    FloatVector xa = FloatVector.fromArray(F, x, oa + c);
                    FloatVector xb = FloatVector.fromArray(F, x, ob + c);
                    int o = 4 * c;
                    FloatVector w = FloatVector.fromMemorySegment(F, seg, (long) (i0 + o), ByteOrder.LITTLE_ENDIAN);
                    a0a = w.fma(xa, a0a);
                    a0b = w.fma(xb, a0b);
                    w = FloatVector.fromMemorySegment(F, seg, (long) (i1 + o), ByteOrder.LITTLE_ENDIAN);
                    a1a = w.fma(xa, a1a);
                    a1b = w.fma(xb, a1b);
                    w = FloatVector.fromMemorySegment(F, seg, (long) (i2 + o), ByteOrder.LITTLE_ENDIAN);
                    a2a = w.fma(xa, a2a);
                    a2b = w.fma(xb, a2b);
                    w = FloatVector.fromMemorySegment(F, seg, (long) (i3 + o), ByteOrder.LITTLE_ENDIAN);
                    a3a = w.fma(xa, a3a);
                    a3b = w.fma(xb, a3b);
                }
                int ta = 4 * i * L;
                a0a.intoArray(t, ta);
                a1a.intoArray(t, ta + L);
                a2a.intoArray(t, ta + 2 * L);
                a3a.intoArray(t, ta + 3 * L);
                a0b.intoArray(t, ta + 4 * L);
                a1b.intoArray(t, ta + 5 * L);
                a2b.intoArray(t, ta + 6 * L);
                a3b.intoArray(t, ta + 7 * L);
            }
            laneSums(t, 4 * even);
            System.arraycopy(t, 0, res, 0, 4 * n);
            for (int c = main; c < cols; c++) {
                long o = 4L * c;
                float w0 = seg.get(FLOAT_LE, b0 + o), w1 = seg.get(FLOAT_LE, b1 + o);
                float w2 = seg.get(FLOAT_LE, b2 + o), w3 = seg.get(FLOAT_LE, b3 + o);
                for (int i = 0; i < n; i++) {
                    float xv = x[base + i * stride + c];
                    res[4 * i] += w0 * xv;
                    res[4 * i + 1] += w1 * xv;
                    res[4 * i + 2] += w2 * xv;
                    res[4 * i + 3] += w3 * xv;
                }
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
            float[] t = Scratch.get().t(L);
            a.intoArray(t, 0);
            laneSums(t, 1);
            float d = t[0];
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

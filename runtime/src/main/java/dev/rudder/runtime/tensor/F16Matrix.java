package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.kernel.Vectors;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * IEEE binary16 weights, little-endian, row-major. Widening (matmul) is exact: {@link Float#float16ToFloat} in a
 * loop C2 vectorizes. The row dots convert halves in int lanes inside the dot loop (the Vector API of JDK 25 has no
 * half-float conversion operator); see {@code Vec}.
 */
public final class F16Matrix extends SegmentMatrix {

    public F16Matrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    F16Matrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, 2L * cols, vector);
    }

    @Override
    public DType dtype() {
        return DType.F16;
    }

    static float at(MemorySegment seg, long byteOffset) {
        return Float.float16ToFloat(seg.get(BF16Matrix.SHORT_LE, byteOffset));
    }

    @Override
    void rowToFloats(int row, float[] dst, int off) {
        long base = 2L * cols * row;
        for (int c = 0; c < cols; c++) {
            dst[off + c] = at(data, base + 2L * c);
        }
    }

    @Override
    RowKernel vectorKernel() {
        return new Vec(data, cols);
    }

    /** The auto-vectorized conversion loop of the vector kernel. */
    static void widen(short[] h, float[] dst, int dOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dOff + i] = Float.float16ToFloat(h[i]);
        }
    }

    /**
     * Fused kernels: a row's halves turned into floats in int lanes ({@code (h << 13) & 0x8FFFE000} puts sign, exponent
     * and mantissa where a float has them, and multiplying by 2^112 rebias the exponent, subnormals included: the
     * exact value of every finite half) and multiplied with the activations in the same pass, two rows per loop, in
     * {@link Vectors#dotLanes}'s order (two accumulators over alternate L-blocks, then their sum, then the lane sum and
     * the tail in order), so {@code dot1}, {@code dot4} and {@code dot4xN} give the same bits. Vector API calls only in
     * the loop (see KernelInliningTest). Infinite and NaN halves (not found in trained weights) read as finite values
     * of 2^16 or more here; {@link #widen} (matmul) converts exactly.
     */
    private static final class Vec implements RowKernel {
        private static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(Vectors.L * 16));
        private static final int L = Vectors.L;
        private static final float REBIAS = 0x1p112f;
        private final MemorySegment seg;
        private final int cols;
        private final long rowBytes;
        private final int main;
        private final boolean intOffsets;

        Vec(MemorySegment seg, int cols) {
            this.seg = seg;
            this.cols = cols;
            this.rowBytes = 2L * cols;
            this.main = Vectors.F.loopBound(cols);
            this.intOffsets = seg.byteSize() < Integer.MAX_VALUE - 64;
        }

        @Override
        public float dot1(int row, float[] x, int xOff) {
            float[] t = Scratch.get().t(2 * L);    // [2 rows, L lanes] (the row twice), then the sums
            pair(row, row, x, xOff, t, 0);
            Vectors.laneSums(t, 1);
            return tail(t[0], row, x, xOff);
        }

        @Override
        public void dot4(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] res) {
            float[] t = Scratch.get().t(4 * L);    // [4 rows, L lanes], then the 4 sums
            pair(r0, r1, x, xOff, t, 0);
            pair(r2, r3, x, xOff, t, 2 * L);
            Vectors.laneSums4(t);
            res[0] = tail(t[0], r0, x, xOff);
            res[1] = tail(t[1], r1, x, xOff);
            res[2] = tail(t[2], r2, x, xOff);
            res[3] = tail(t[3], r3, x, xOff);
        }

        @Override
        public void dot4xN(int r0, int r1, int r2, int r3, float[] x, int base, int stride, int n, float[] res) {
            float[] t = Scratch.get().t(Vectors.laneSumSlots(4 * n) * L);  // [n inputs, 4 rows, L lanes]
            int i = 0;
            for (; intOffsets && i + 1 < n; i += 2) {   // two inputs at a time: each half converted once for both
                int xa = base + i * stride;
                for (int k = 0; k < 4; k++) {
                    int row = k == 0 ? r0 : k == 1 ? r1 : k == 2 ? r2 : r3;
                    rowTwoInputs(seg, (int) (row * rowBytes), main, x, xa, xa + stride, t, (4 * i + k) * L,
                            (4 * (i + 1) + k) * L);
                }
            }
            for (; i < n; i++) {
                pair(r0, r1, x, base + i * stride, t, 4 * i * L);
                pair(r2, r3, x, base + i * stride, t, (4 * i + 2) * L);
            }
            Vectors.laneSums(t, 4 * n);
            for (int j = 0; j < n; j++) {
                int xj = base + j * stride;
                res[4 * j] = tail(t[4 * j], r0, x, xj);
                res[4 * j + 1] = tail(t[4 * j + 1], r1, x, xj);
                res[4 * j + 2] = tail(t[4 * j + 2], r2, x, xj);
                res[4 * j + 3] = tail(t[4 * j + 3], r3, x, xj);
            }
        }

        /** Lane sum {@code s} of a row plus its tail columns past the vector loop, in order (as {@link Vectors#dotTail}). */
        private float tail(float s, int row, float[] x, int xOff) {
            long b = row * rowBytes;
            for (int c = main; c < cols; c++) {
                s += at(seg, b + 2L * c) * x[xOff + c];
            }
            return s;
        }

        /** The accumulator lanes of rows rA and rB to {@code t[tOff ..)} and {@code t[tOff + L ..)}. */
        private void pair(int rA, int rB, float[] x, int xOff, float[] t, int tOff) {
            if (intOffsets) {
                lanes2(seg, (int) (rA * rowBytes), seg, (int) (rB * rowBytes), main, x, xOff, t, tOff);
            } else {   // past 2 GiB: each row through a slice of its own
                lanes2(seg.asSlice(rA * rowBytes, rowBytes), 0, seg.asSlice(rB * rowBytes, rowBytes), 0, main, x, xOff,
                        t, tOff);
            }
        }

        private static void lanes2(MemorySegment sA, int bA, MemorySegment sB, int bB, int main, float[] x, int xOff, float[] t, int tOff) {
            FloatVector a0 = FloatVector.zero(Vectors.F), a1 = FloatVector.zero(Vectors.F);
            FloatVector b0 = FloatVector.zero(Vectors.F), b1 = FloatVector.zero(Vectors.F);
            IntVector h;   // a block of halves as float bits, exponent not yet rebiased
            int c = 0;
            for (; c + 2 * L <= main; c += 2 * L) {
                FloatVector x0 = FloatVector.fromArray(Vectors.F, x, xOff + c);
                FloatVector x1 = FloatVector.fromArray(Vectors.F, x, xOff + c + L);
                h = ((IntVector) ShortVector.fromMemorySegment(H, sA, bA + 2 * c, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.S2I, Vectors.I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000);
                FloatVector w = h.reinterpretAsFloats().mul(REBIAS)
                        .blend(h.or(0x70000000).reinterpretAsFloats(), h.and(0x0F800000).compare(VectorOperators.EQ, 0x0F800000).cast(Vectors.F));
                a0 = w.fma(x0, a0);
                h = ((IntVector) ShortVector.fromMemorySegment(H, sA, bA + 2 * (c + L), ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.S2I, Vectors.I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000);
                w = h.reinterpretAsFloats().mul(REBIAS)
                        .blend(h.or(0x70000000).reinterpretAsFloats(), h.and(0x0F800000).compare(VectorOperators.EQ, 0x0F800000).cast(Vectors.F));
                a1 = w.fma(x1, a1);
                h = ((IntVector) ShortVector.fromMemorySegment(H, sB, bB + 2 * c, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.S2I, Vectors.I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000);
                w = h.reinterpretAsFloats().mul(REBIAS)
                        .blend(h.or(0x70000000).reinterpretAsFloats(), h.and(0x0F800000).compare(VectorOperators.EQ, 0x0F800000).cast(Vectors.F));
                b0 = w.fma(x0, b0);
                h = ((IntVector) ShortVector.fromMemorySegment(H, sB, bB + 2 * (c + L), ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.S2I, Vectors.I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000);
                w = h.reinterpretAsFloats().mul(REBIAS)
                        .blend(h.or(0x70000000).reinterpretAsFloats(), h.and(0x0F800000).compare(VectorOperators.EQ, 0x0F800000).cast(Vectors.F));
                b1 = w.fma(x1, b1);
            }
            if (c < main) {   // one L-block left: into the first accumulator, as dotLanes
                FloatVector x0 = FloatVector.fromArray(Vectors.F, x, xOff + c);
                h = ((IntVector) ShortVector.fromMemorySegment(H, sA, bA + 2 * c, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.S2I, Vectors.I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000);
                FloatVector w = h.reinterpretAsFloats().mul(REBIAS)
                        .blend(h.or(0x70000000).reinterpretAsFloats(), h.and(0x0F800000).compare(VectorOperators.EQ, 0x0F800000).cast(Vectors.F));
                a0 = w.fma(x0, a0);
                h = ((IntVector) ShortVector.fromMemorySegment(H, sB, bB + 2 * c, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.S2I, Vectors.I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000);
                w = h.reinterpretAsFloats().mul(REBIAS)
                        .blend(h.or(0x70000000).reinterpretAsFloats(), h.and(0x0F800000).compare(VectorOperators.EQ, 0x0F800000).cast(Vectors.F));
                b0 = w.fma(x0, b0);
            }
            a0.add(a1).intoArray(t, tOff);
            b0.add(b1).intoArray(t, tOff + L);
        }

        /**
         * One row of {@link #lanes2} with two inputs, at {@code xa} (lanes to {@code t[ta ..)}) and {@code xb} (to
         * {@code t[tb ..)}): each block of halves converted once for both (batched decode), per input the same
         * operations in the same order.
         */
        private static void rowTwoInputs(MemorySegment s, int b, int main, float[] x, int xa, int xb, float[] t, int ta,
                                         int tb) {
            FloatVector a0 = FloatVector.zero(Vectors.F), a1 = FloatVector.zero(Vectors.F);
            FloatVector c0 = FloatVector.zero(Vectors.F), c1 = FloatVector.zero(Vectors.F);
            IntVector h;   // a block of halves as float bits, exponent not yet rebiased
            int c = 0;
            for (; c + 2 * L <= main; c += 2 * L) {
                h = ((IntVector) ShortVector.fromMemorySegment(H, s, b + 2 * c, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.S2I, Vectors.I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000);
                FloatVector w0 = h.reinterpretAsFloats().mul(REBIAS)
                        .blend(h.or(0x70000000).reinterpretAsFloats(), h.and(0x0F800000).compare(VectorOperators.EQ, 0x0F800000).cast(Vectors.F));
                h = ((IntVector) ShortVector.fromMemorySegment(H, s, b + 2 * (c + L), ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.S2I, Vectors.I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000);
                FloatVector w1 = h.reinterpretAsFloats().mul(REBIAS)
                        .blend(h.or(0x70000000).reinterpretAsFloats(), h.and(0x0F800000).compare(VectorOperators.EQ, 0x0F800000).cast(Vectors.F));
                a0 = w0.fma(FloatVector.fromArray(Vectors.F, x, xa + c), a0);
                a1 = w1.fma(FloatVector.fromArray(Vectors.F, x, xa + c + L), a1);
                c0 = w0.fma(FloatVector.fromArray(Vectors.F, x, xb + c), c0);
                c1 = w1.fma(FloatVector.fromArray(Vectors.F, x, xb + c + L), c1);
            }
            if (c < main) {   // one L-block left: into the first accumulators, as dotLanes
                h = ((IntVector) ShortVector.fromMemorySegment(H, s, b + 2 * c, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.S2I, Vectors.I, 0)).lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000);
                FloatVector w = h.reinterpretAsFloats().mul(REBIAS)
                        .blend(h.or(0x70000000).reinterpretAsFloats(), h.and(0x0F800000).compare(VectorOperators.EQ, 0x0F800000).cast(Vectors.F));
                a0 = w.fma(FloatVector.fromArray(Vectors.F, x, xa + c), a0);
                c0 = w.fma(FloatVector.fromArray(Vectors.F, x, xb + c), c0);
            }
            a0.add(a1).intoArray(t, ta);
            c0.add(c1).intoArray(t, tb);
        }

        /** The row's halves converted straight from the segment (a loop C2 vectorizes: vcvtph2ps). */
        @Override
        public void widen(int row, float[] dst, int off) {
            long b = 2L * cols * row;
            for (int c = 0; c < cols; c++) {
                dst[off + c] = Float.float16ToFloat(seg.get(BF16Matrix.SHORT_LE, b + 2L * c));
            }
        }
    }
}

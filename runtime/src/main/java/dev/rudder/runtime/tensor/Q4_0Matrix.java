package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.kernel.Vectors;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * ggml's Q4_0: blocks of 32 weights, {@code {f16 d; uint8 qs[16]}} (18 bytes, 4.5 bits per weight); weight j < 16 is
 * {@code d * ((qs[j] & 0xF) - 8)}, weight j + 16 is {@code d * ((qs[j] >> 4) - 8)}.
 */
public final class Q4_0Matrix extends BlockMatrix {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 18;

    public Q4_0Matrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    Q4_0Matrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, BLOCK, BLOCK_BYTES, vector);
    }

    @Override
    public DType dtype() {
        return DType.Q4_0;
    }

    @Override
    void dequantize(long offset, float[] dst, int dOff, int n) {
        dequantize(data, offset, dst, dOff, n);
    }

    /** ggml's {@code dequantize_row_q4_0}. */
    static void dequantize(MemorySegment seg, long offset, float[] dst, int dOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float d = f16(seg, o);
            int base = dOff + b * BLOCK;
            for (int j = 0; j < BLOCK / 2; j++) {
                int q = seg.get(ValueLayout.JAVA_BYTE, o + 2 + j) & 0xFF;
                dst[base + j] = ((q & 0xF) - 8) * d;
                dst[base + j + BLOCK / 2] = ((q >> 4) - 8) * d;
            }
        }
    }

    @Override
    RowKernel vectorKernel() {
        return new Vec(this);
    }

    /** Fused int8 -> float FMA over the blocks of a row; widening (matmul) by the same dequantization in vectors. */
    private static final class Vec extends BlockKernel {
        static final VectorSpecies<Float> F = Vectors.F;
        static final int L = Vectors.L;
        /** The 16 packed bytes of a block (one 128-bit vector). */
        static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
        /** Float vectors per 16 weights. */
        static final int PARTS = 16 / L;

        Vec(Q4_0Matrix m) {
            super(m);
        }

        /**
         * Two pairs of rows, each pair as two memory streams sharing the activation loads; per row the same
         * operations in the same order as {@link #lanes}. (Four rows at once inline past C2's budget: vectors got
         * boxed and the kernel ran 5x slower.)
         */
        @Override
        void lanes4(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] t, int tOff) {
            lanes2(r0, r1, x, xOff, t, tOff);
            lanes2(r2, r3, x, xOff, t, tOff + 2 * L);
        }

        /** {@link #lanes} of rows rA and rB to {@code t[tOff ..)} and {@code t[tOff + L ..)}. */
        private void lanes2(int rA, int rB, float[] x, int xOff, float[] t, int tOff) {
            MemorySegment seg = m.data;
            long bA = rA * rowBytes, bB = rB * rowBytes;
            int blocks = m.cols / BLOCK;
            FloatVector aA = FloatVector.zero(F), aB = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                long o = (long) b * BLOCK_BYTES;
                int xb = xOff + b * BLOCK;
                ByteVector qA = ByteVector.fromMemorySegment(B, seg, bA + o + 2, ByteOrder.LITTLE_ENDIAN);
                ByteVector qB = ByteVector.fromMemorySegment(B, seg, bB + o + 2, ByteOrder.LITTLE_ENDIAN);
                ByteVector loA = low(qA), hiA = high(qA), loB = low(qB), hiB = high(qB);
                FloatVector sA = FloatVector.zero(F), sB = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    FloatVector xl = FloatVector.fromArray(F, x, xb + p * L);
                    FloatVector xh = FloatVector.fromArray(F, x, xb + 16 + p * L);
                    sA = widen(loA, p).fma(xl, sA);
                    sA = widen(hiA, p).fma(xh, sA);
                    sB = widen(loB, p).fma(xl, sB);
                    sB = widen(hiB, p).fma(xh, sB);
                }
                aA = sA.fma(FloatVector.broadcast(F, f16(seg, bA + o)), aA);
                aB = sB.fma(FloatVector.broadcast(F, f16(seg, bB + o)), aB);
            }
            aA.intoArray(t, tOff);
            aB.intoArray(t, tOff + L);
        }

        /** Weights 0..15 of a block: low nibbles minus 8. */
        private static ByteVector low(ByteVector q) {
            return q.and((byte) 0xF).sub((byte) 8);
        }

        /** Weights 16..31 of a block: high nibbles minus 8. */
        private static ByteVector high(ByteVector q) {
            return q.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF).sub((byte) 8);
        }

        /** Float lanes {@code [p*L, (p+1)*L)} of 16 int8 weights. */
        private static FloatVector widen(ByteVector w, int p) {
            return (FloatVector) w.convertShape(VectorOperators.B2F, F, p);
        }

        /** The exact dequantization (as {@link Q4_0Matrix#dequantize}: {@code (q - 8) * d} is exact in float) in vectors. */
        @Override
        public void widen(int row, float[] dst, int off) {
            MemorySegment seg = m.data;
            long base = row * rowBytes;
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = base + (long) b * BLOCK_BYTES;
                ByteVector q = ByteVector.fromMemorySegment(B, seg, o + 2, ByteOrder.LITTLE_ENDIAN);
                ByteVector lo = low(q), hi = high(q);
                FloatVector d = FloatVector.broadcast(F, f16(seg, o));
                int y = off + b * BLOCK;
                for (int p = 0; p < PARTS; p++) {
                    widen(lo, p).mul(d).intoArray(dst, y + p * L);
                    widen(hi, p).mul(d).intoArray(dst, y + 16 + p * L);
                }
            }
        }

        @Override
        void lanes(int row, float[] x, int xOff, float[] t, int tOff) {
            MemorySegment seg = m.data;
            long base = row * rowBytes;
            int cols = m.cols;
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < cols / BLOCK; b++) {
                long o = base + (long) b * BLOCK_BYTES;
                ByteVector q = ByteVector.fromMemorySegment(B, seg, o + 2, ByteOrder.LITTLE_ENDIAN);
                ByteVector lo = low(q), hi = high(q);
                int xb = xOff + b * BLOCK;
                FloatVector s = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    s = widen(lo, p).fma(FloatVector.fromArray(F, x, xb + p * L), s);
                    s = widen(hi, p).fma(FloatVector.fromArray(F, x, xb + 16 + p * L), s);
                }
                acc = s.fma(FloatVector.broadcast(F, f16(seg, o)), acc);
            }
            acc.intoArray(t, tOff);
        }
    }
}

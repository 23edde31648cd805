package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.kernel.Vectors;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.rudder.runtime.tensor.NibbleBlocks.F;
import static dev.rudder.runtime.tensor.NibbleBlocks.L;
import static dev.rudder.runtime.tensor.NibbleBlocks.PARTS;
import static dev.rudder.runtime.tensor.NibbleBlocks.high;
import static dev.rudder.runtime.tensor.NibbleBlocks.lookup;

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

    /**
     * Fused dot over the blocks of a row: the 16 packed bytes of a block sign-extended to int lanes, each nibble
     * turned into its float weight {@code q - 8} by {@link NibbleBlocks#lookup} (one permute on AVX-512 instead of a
     * mask, a subtraction and an int-to-float conversion), multiplied with the activations, scaled per block.
     * Widening (matmul) by the same weights.
     */
    private static final class Vec extends BlockKernel {
        /** Entry q: the float q - 8. */
        static final NibbleBlocks.Table Q = NibbleBlocks.table(
                new float[] {-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7});
        /** {@link #Q}'s vector (16 lanes: the whole table; 8 lanes use the table's linear form instead). */
        static final IntVector TABLE = Q.a();

        Vec(Q4_0Matrix m) {
            super(m);
        }

        /** {@link #lanes} of rows rA and rB to {@code t[tOff ..)} and {@code t[tOff + L ..)}, in one loop. */
        @Override
        void lanes2(int rA, int rB, float[] x, int xOff, float[] t, int tOff) {
            // each row as its own slice, offsets from its start (as Q8_0: fewer instructions per load than int
            // offsets into the whole matrix)
            MemorySegment segA = rowSegment(rA), segB = rowSegment(rB);
            FloatVector aA = FloatVector.zero(F), aB = FloatVector.zero(F);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = (long) b * BLOCK_BYTES;
                int xb = xOff + b * BLOCK;
                FloatVector sA = FloatVector.zero(F), sB = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    IntVector iA = ints(segA, o + 2 + p * L), iB = ints(segB, o + 2 + p * L);
                    FloatVector xl = FloatVector.fromArray(F, x, xb + p * L);
                    FloatVector xh = FloatVector.fromArray(F, x, xb + 16 + p * L);
                    sA = lookup(iA, Q).fma(xl, sA);
                    sB = lookup(iB, Q).fma(xl, sB);
                    sA = lookup(high(iA), Q).fma(xh, sA);
                    sB = lookup(high(iB), Q).fma(xh, sB);
                }
                aA = sA.fma(FloatVector.broadcast(F, f16(segA, o)), aA);
                aB = sB.fma(FloatVector.broadcast(F, f16(segB, o)), aB);
            }
            aA.intoArray(t, tOff);
            aB.intoArray(t, tOff + L);
        }

        /**
         * {@link #lanes2} with two inputs: each row's nibbles looked up once for both (batched decode); per row and
         * input the operations of {@link #lanes} in its order. Vector API calls only in the loop (four chains pass C2's
         * inlining node cutoff; see KernelInliningTest).
         */
        @Override
        void lanes2x2(int rA, int rB, float[] x, int xa, int xb, float[] t, int ta, int tb) {
            MemorySegment segA = rowSegment(rA), segB = rowSegment(rB);
            FloatVector aAa = FloatVector.zero(F), aBa = FloatVector.zero(F);
            FloatVector aAb = FloatVector.zero(F), aBb = FloatVector.zero(F);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = (long) b * BLOCK_BYTES;
                int xo = b * BLOCK;
                FloatVector sAa = FloatVector.zero(F), sBa = FloatVector.zero(F);
                FloatVector sAb = FloatVector.zero(F), sBb = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    IntVector iA = (IntVector) ByteVector.fromMemorySegment(BYTES, segA, o + 2 + p * L,
                            ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, Vectors.I, 0);
                    IntVector iB = (IntVector) ByteVector.fromMemorySegment(BYTES, segB, o + 2 + p * L,
                            ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, Vectors.I, 0);
                    IntVector jA = iA.lanewise(VectorOperators.ASHR, 4), jB = iB.lanewise(VectorOperators.ASHR, 4);
                    FloatVector lA, hA, lB, hB;   // NibbleBlocks.lookup of the low and high nibbles
                    if (L == 16) {
                        lA = iA.selectFrom(TABLE).reinterpretAsFloats();
                        hA = jA.selectFrom(TABLE).reinterpretAsFloats();
                        lB = iB.selectFrom(TABLE).reinterpretAsFloats();
                        hB = jB.selectFrom(TABLE).reinterpretAsFloats();
                    } else {                      // the table's linear form: q - 8
                        lA = (FloatVector) iA.and(0xF).add(-8).convert(VectorOperators.I2F, 0);
                        hA = (FloatVector) jA.and(0xF).add(-8).convert(VectorOperators.I2F, 0);
                        lB = (FloatVector) iB.and(0xF).add(-8).convert(VectorOperators.I2F, 0);
                        hB = (FloatVector) jB.and(0xF).add(-8).convert(VectorOperators.I2F, 0);
                    }
                    FloatVector xl = FloatVector.fromArray(F, x, xa + xo + p * L);
                    FloatVector xh = FloatVector.fromArray(F, x, xa + xo + 16 + p * L);
                    sAa = hA.fma(xh, lA.fma(xl, sAa));
                    sBa = hB.fma(xh, lB.fma(xl, sBa));
                    xl = FloatVector.fromArray(F, x, xb + xo + p * L);
                    xh = FloatVector.fromArray(F, x, xb + xo + 16 + p * L);
                    sAb = hA.fma(xh, lA.fma(xl, sAb));
                    sBb = hB.fma(xh, lB.fma(xl, sBb));
                }
                FloatVector dA = FloatVector.broadcast(F, Float.float16ToFloat(segA.get(SHORT_LE, o)));
                FloatVector dB = FloatVector.broadcast(F, Float.float16ToFloat(segB.get(SHORT_LE, o)));
                aAa = sAa.fma(dA, aAa);
                aBa = sBa.fma(dB, aBa);
                aAb = sAb.fma(dA, aAb);
                aBb = sBb.fma(dB, aBb);
            }
            aAa.intoArray(t, ta);
            aBa.intoArray(t, ta + L);
            aAb.intoArray(t, tb);
            aBb.intoArray(t, tb + L);
        }

        @Override
        void lanes(int row, float[] x, int xOff, float[] t, int tOff) {
            MemorySegment seg = m.data;
            long base = row * rowBytes + 2;
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = base + (long) b * BLOCK_BYTES;
                int xb = xOff + b * BLOCK;
                FloatVector s = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    IntVector i = ints(seg, o + (long) p * L);
                    FloatVector xl = FloatVector.fromArray(F, x, xb + p * L);
                    s = lookup(i, Q).fma(xl, s);
                    s = lookup(high(i), Q).fma(FloatVector.fromArray(F, x, xb + 16 + p * L), s);
                }
                acc = s.fma(FloatVector.broadcast(F, f16(seg, o - 2)), acc);
            }
            acc.intoArray(t, tOff);
        }

        /** The exact dequantization (as {@link Q4_0Matrix#dequantize}: {@code (q - 8) * d} is exact in float) in vectors. */
        @Override
        public void widen(int row, float[] dst, int off) {
            MemorySegment seg = m.data;
            long base = row * rowBytes + 2;
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = base + (long) b * BLOCK_BYTES;
                FloatVector d = FloatVector.broadcast(F, f16(seg, o - 2));
                int y = off + b * BLOCK;
                for (int p = 0; p < PARTS; p++) {
                    IntVector i = ints(seg, o + (long) p * L);
                    lookup(i, Q).mul(d).intoArray(dst, y + p * L);
                    lookup(high(i), Q).mul(d).intoArray(dst, y + 16 + p * L);
                }
            }
        }
    }
}

package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.kernel.Vectors;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.rudder.runtime.tensor.NibbleBlocks.F;
import static dev.rudder.runtime.tensor.NibbleBlocks.L;
import static dev.rudder.runtime.tensor.NibbleBlocks.PARTS;
import static dev.rudder.runtime.tensor.NibbleBlocks.high;
import static dev.rudder.runtime.tensor.NibbleBlocks.lookup;

/**
 * ggml's Q4_1: blocks of 32 weights, {@code {f16 d; f16 m; uint8 qs[16]}} (20 bytes, 5 bits per weight); weight j < 16
 * is {@code d * (qs[j] & 0xF) + m}, weight j + 16 is {@code d * (qs[j] >> 4) + m}.
 */
public final class Q4_1Matrix extends BlockMatrix {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 20;

    public Q4_1Matrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    Q4_1Matrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, BLOCK, BLOCK_BYTES, vector);
    }

    @Override
    public DType dtype() {
        return DType.Q4_1;
    }

    @Override
    void dequantize(long offset, float[] dst, int dOff, int n) {
        dequantize(data, offset, dst, dOff, n);
    }

    /** ggml's {@code dequantize_row_q4_1}. */
    static void dequantize(MemorySegment seg, long offset, float[] dst, int dOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float d = f16(seg, o);
            float m = f16(seg, o + 2);
            int base = dOff + b * BLOCK;
            for (int j = 0; j < BLOCK / 2; j++) {
                int q = Q4KMatrix.u8(seg, o + 4 + j);
                dst[base + j] = (q & 0xF) * d + m;
                dst[base + j + BLOCK / 2] = (q >> 4) * d + m;
            }
        }
    }

    @Override
    RowKernel vectorKernel() {
        return new Vec(this);
    }

    /**
     * Fused dot: per block {@code d * sum(q*x) + m * sum(x)}, each nibble looked up as its float value
     * ({@link NibbleBlocks#lookup}); widening (matmul) by the same values, {@code q * d + m} rounded as the scalar
     * code.
     */
    private static final class Vec extends BlockKernel {
        /** Entry q: the float q. */
        static final NibbleBlocks.Table Q =
                NibbleBlocks.table(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
        /** {@link #Q}'s vector (16 lanes: the whole table; 8 lanes use the table's linear form instead). */
        static final IntVector TABLE = Q.a();

        Vec(Q4_1Matrix m) {
            super(m);
        }

        /** {@link #lanes} of rows rA and rB (same operations per row) to {@code t[tOff ..)}, {@code t[tOff + L ..)}. */
        @Override
        void lanes2(int rA, int rB, float[] x, int xOff, float[] t, int tOff) {
            MemorySegment seg = m.data;
            int bA = (int) (rA * rowBytes), bB = (int) (rB * rowBytes);
            FloatVector aA = FloatVector.zero(F), aB = FloatVector.zero(F);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                int o = b * BLOCK_BYTES;
                int xb = xOff + b * BLOCK;
                FloatVector sA = FloatVector.zero(F), sB = FloatVector.zero(F), sx = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    int q = o + 4 + p * L;
                    IntVector iA = ints(seg, bA + q), iB = ints(seg, bB + q);
                    FloatVector xl = FloatVector.fromArray(F, x, xb + p * L);
                    FloatVector xh = FloatVector.fromArray(F, x, xb + 16 + p * L);
                    sA = lookup(iA, Q).fma(xl, sA);
                    sB = lookup(iB, Q).fma(xl, sB);
                    sA = lookup(high(iA), Q).fma(xh, sA);
                    sB = lookup(high(iB), Q).fma(xh, sB);
                    sx = sx.add(xl).add(xh);
                }
                aA = sA.fma(FloatVector.broadcast(F, f16(seg, bA + o)), aA);
                aA = sx.fma(FloatVector.broadcast(F, f16(seg, bA + o + 2)), aA);
                aB = sB.fma(FloatVector.broadcast(F, f16(seg, bB + o)), aB);
                aB = sx.fma(FloatVector.broadcast(F, f16(seg, bB + o + 2)), aB);
            }
            aA.intoArray(t, tOff);
            aB.intoArray(t, tOff + L);
        }

        /**
         * {@link #lanes2} with two inputs: each row's nibbles looked up once for both (batched decode); per row and
         * input the operations of {@link #lanes} in its order. Vector API calls only in the loop.
         */
        @Override
        void lanes2x2(int rA, int rB, float[] x, int xa, int xb, float[] t, int ta, int tb) {
            MemorySegment seg = m.data;
            int bA = (int) (rA * rowBytes), bB = (int) (rB * rowBytes);
            FloatVector aAa = FloatVector.zero(F), aBa = FloatVector.zero(F);
            FloatVector aAb = FloatVector.zero(F), aBb = FloatVector.zero(F);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                int oA = bA + b * BLOCK_BYTES, oB = bB + b * BLOCK_BYTES;
                int xo = b * BLOCK;
                FloatVector sAa = FloatVector.zero(F), sBa = FloatVector.zero(F);
                FloatVector sAb = FloatVector.zero(F), sBb = FloatVector.zero(F);
                FloatVector sxa = FloatVector.zero(F), sxb = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    IntVector iA = (IntVector) ByteVector.fromMemorySegment(BYTES, seg, oA + 4 + p * L,
                            ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, Vectors.I, 0);
                    IntVector iB = (IntVector) ByteVector.fromMemorySegment(BYTES, seg, oB + 4 + p * L,
                            ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, Vectors.I, 0);
                    IntVector jA = iA.lanewise(VectorOperators.ASHR, 4), jB = iB.lanewise(VectorOperators.ASHR, 4);
                    FloatVector lA, hiA, lB, hiB;   // NibbleBlocks.lookup of the low and high nibbles
                    if (L == 16) {
                        lA = iA.selectFrom(TABLE).reinterpretAsFloats();
                        hiA = jA.selectFrom(TABLE).reinterpretAsFloats();
                        lB = iB.selectFrom(TABLE).reinterpretAsFloats();
                        hiB = jB.selectFrom(TABLE).reinterpretAsFloats();
                    } else {
                        lA = (FloatVector) iA.and(0xF).convert(VectorOperators.I2F, 0);
                        hiA = (FloatVector) jA.and(0xF).convert(VectorOperators.I2F, 0);
                        lB = (FloatVector) iB.and(0xF).convert(VectorOperators.I2F, 0);
                        hiB = (FloatVector) jB.and(0xF).convert(VectorOperators.I2F, 0);
                    }
                    FloatVector xl = FloatVector.fromArray(F, x, xa + xo + p * L);
                    FloatVector xh = FloatVector.fromArray(F, x, xa + xo + 16 + p * L);
                    sAa = hiA.fma(xh, lA.fma(xl, sAa));
                    sBa = hiB.fma(xh, lB.fma(xl, sBa));
                    sxa = sxa.add(xl).add(xh);
                    xl = FloatVector.fromArray(F, x, xb + xo + p * L);
                    xh = FloatVector.fromArray(F, x, xb + xo + 16 + p * L);
                    sAb = hiA.fma(xh, lA.fma(xl, sAb));
                    sBb = hiB.fma(xh, lB.fma(xl, sBb));
                    sxb = sxb.add(xl).add(xh);
                }
                FloatVector dA = FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT_LE, oA)));
                FloatVector dB = FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT_LE, oB)));
                FloatVector mA = FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT_LE, oA + 2)));
                FloatVector mB = FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT_LE, oB + 2)));
                aAa = sxa.fma(mA, sAa.fma(dA, aAa));
                aBa = sxa.fma(mB, sBa.fma(dB, aBa));
                aAb = sxb.fma(mA, sAb.fma(dA, aAb));
                aBb = sxb.fma(mB, sBb.fma(dB, aBb));
            }
            aAa.intoArray(t, ta);
            aBa.intoArray(t, ta + L);
            aAb.intoArray(t, tb);
            aBb.intoArray(t, tb + L);
        }

        @Override
        void lanes(int row, float[] x, int xOff, float[] t, int tOff) {
            MemorySegment seg = m.data;
            long base = row * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = base + (long) b * BLOCK_BYTES;
                int xb = xOff + b * BLOCK;
                FloatVector s = FloatVector.zero(F), sx = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    IntVector i = ints(seg, o + 4 + (long) p * L);
                    FloatVector xl = FloatVector.fromArray(F, x, xb + p * L);
                    FloatVector xh = FloatVector.fromArray(F, x, xb + 16 + p * L);
                    s = lookup(i, Q).fma(xl, s);
                    s = lookup(high(i), Q).fma(xh, s);
                    sx = sx.add(xl).add(xh);
                }
                acc = s.fma(FloatVector.broadcast(F, f16(seg, o)), acc);
                acc = sx.fma(FloatVector.broadcast(F, f16(seg, o + 2)), acc);
            }
            acc.intoArray(t, tOff);
        }

        /** The exact dequantization ({@code q * d + m}, two roundings as {@link Q4_1Matrix#dequantize}) in vectors. */
        @Override
        public void widen(int row, float[] dst, int off) {
            MemorySegment seg = m.data;
            long base = row * rowBytes;
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = base + (long) b * BLOCK_BYTES;
                FloatVector d = FloatVector.broadcast(F, f16(seg, o));
                FloatVector mn = FloatVector.broadcast(F, f16(seg, o + 2));
                int y = off + b * BLOCK;
                for (int p = 0; p < PARTS; p++) {
                    IntVector i = ints(seg, o + 4 + (long) p * L);
                    lookup(i, Q).mul(d).add(mn).intoArray(dst, y + p * L);
                    lookup(high(i), Q).mul(d).add(mn).intoArray(dst, y + 16 + p * L);
                }
            }
        }
    }
}

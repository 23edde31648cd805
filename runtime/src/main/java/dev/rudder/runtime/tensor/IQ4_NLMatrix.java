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
 * ggml's IQ4_NL: blocks of 32 weights, {@code {f16 d; uint8 qs[16]}} (18 bytes, 4.5 bits per weight), nibbles laid out
 * as Q4_0's; a nibble indexes the non-linear 16-entry table {@code kvalues_iq4nl}: weight = {@code d * table[nibble]}.
 */
public final class IQ4_NLMatrix extends BlockMatrix {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 18;
    /** ggml's {@code kvalues_iq4nl}. */
    static final byte[] VALUES = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    public IQ4_NLMatrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    IQ4_NLMatrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, BLOCK, BLOCK_BYTES, vector);
    }

    @Override
    public DType dtype() {
        return DType.IQ4_NL;
    }

    @Override
    void dequantize(long offset, float[] dst, int dOff, int n) {
        dequantize(data, offset, dst, dOff, n);
    }

    /** ggml's {@code dequantize_row_iq4_nl}. */
    static void dequantize(MemorySegment seg, long offset, float[] dst, int dOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float d = f16(seg, o);
            int base = dOff + b * BLOCK;
            for (int j = 0; j < BLOCK / 2; j++) {
                int q = Q4KMatrix.u8(seg, o + 2 + j);
                dst[base + j] = d * VALUES[q & 0xF];
                dst[base + j + BLOCK / 2] = d * VALUES[q >> 4];
            }
        }
    }

    @Override
    RowKernel vectorKernel() {
        return new Vec(this);
    }

    /**
     * Fused dot: each nibble looked up as its table value in float ({@link NibbleBlocks#lookup}), FMA with the
     * activations, scaled per block; widening (matmul) by the same values times d.
     */
    private static final class Vec extends BlockKernel {
        /** ggml's {@code kvalues_iq4nl} as floats. */
        static final NibbleBlocks.Table KV = NibbleBlocks.table(floats(VALUES));
        /** {@link #KV}'s vector (16 lanes: the whole table; with 8 lanes its first half). */
        static final IntVector TABLE = KV.a();
        /** {@link #KV}'s second half with 8 lanes (null with 16). */
        static final IntVector TABLE_HIGH = KV.b();

        Vec(IQ4_NLMatrix m) {
            super(m);
        }

        private static float[] floats(byte[] v) {
            float[] f = new float[v.length];
            for (int k = 0; k < v.length; k++) {
                f[k] = v[k];
            }
            return f;
        }

        /** {@link #lanes} of rows rA and rB (same operations per row) to {@code t[tOff ..)}, {@code t[tOff + L ..)}. */
        @Override
        void lanes2(int rA, int rB, float[] x, int xOff, float[] t, int tOff) {
            // each row as its own slice, offsets from its start (as Q4_0: fewer instructions per load)
            MemorySegment segA = rowSegment(rA), segB = rowSegment(rB);
            FloatVector aA = FloatVector.zero(F), aB = FloatVector.zero(F);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = (long) b * BLOCK_BYTES;
                int xb = xOff + b * BLOCK;
                FloatVector sA = FloatVector.zero(F), sB = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    long q = o + 2 + p * L;
                    IntVector iA = ints(segA, q), iB = ints(segB, q);
                    FloatVector xl = FloatVector.fromArray(F, x, xb + p * L);
                    FloatVector xh = FloatVector.fromArray(F, x, xb + 16 + p * L);
                    sA = lookup(iA, KV).fma(xl, sA);
                    sB = lookup(iB, KV).fma(xl, sB);
                    sA = lookup(high(iA), KV).fma(xh, sA);
                    sB = lookup(high(iB), KV).fma(xh, sB);
                }
                aA = sA.fma(FloatVector.broadcast(F, f16(segA, o)), aA);
                aB = sB.fma(FloatVector.broadcast(F, f16(segB, o)), aB);
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
                    FloatVector lA, hiA, lB, hiB;   // NibbleBlocks.lookup of the low and high nibbles
                    if (L == 16) {
                        lA = iA.selectFrom(TABLE).reinterpretAsFloats();
                        hiA = jA.selectFrom(TABLE).reinterpretAsFloats();
                        lB = iB.selectFrom(TABLE).reinterpretAsFloats();
                        hiB = jB.selectFrom(TABLE).reinterpretAsFloats();
                    } else {
                        lA = iA.selectFrom(TABLE, TABLE_HIGH).reinterpretAsFloats();
                        hiA = jA.selectFrom(TABLE, TABLE_HIGH).reinterpretAsFloats();
                        lB = iB.selectFrom(TABLE, TABLE_HIGH).reinterpretAsFloats();
                        hiB = jB.selectFrom(TABLE, TABLE_HIGH).reinterpretAsFloats();
                    }
                    FloatVector xl = FloatVector.fromArray(F, x, xa + xo + p * L);
                    FloatVector xh = FloatVector.fromArray(F, x, xa + xo + 16 + p * L);
                    sAa = hiA.fma(xh, lA.fma(xl, sAa));
                    sBa = hiB.fma(xh, lB.fma(xl, sBa));
                    xl = FloatVector.fromArray(F, x, xb + xo + p * L);
                    xh = FloatVector.fromArray(F, x, xb + xo + 16 + p * L);
                    sAb = hiA.fma(xh, lA.fma(xl, sAb));
                    sBb = hiB.fma(xh, lB.fma(xl, sBb));
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
            long base = row * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = base + (long) b * BLOCK_BYTES;
                int xb = xOff + b * BLOCK;
                FloatVector s = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    IntVector i = ints(seg, o + 2 + (long) p * L);
                    s = lookup(i, KV).fma(FloatVector.fromArray(F, x, xb + p * L), s);
                    s = lookup(high(i), KV).fma(FloatVector.fromArray(F, x, xb + 16 + p * L), s);
                }
                acc = s.fma(FloatVector.broadcast(F, f16(seg, o)), acc);
            }
            acc.intoArray(t, tOff);
        }

        /** The exact dequantization ({@code d * value}, as {@link IQ4_NLMatrix#dequantize}) in vectors. */
        @Override
        public void widen(int row, float[] dst, int off) {
            MemorySegment seg = m.data;
            long base = row * rowBytes;
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = base + (long) b * BLOCK_BYTES;
                FloatVector d = FloatVector.broadcast(F, f16(seg, o));
                int y = off + b * BLOCK;
                for (int p = 0; p < PARTS; p++) {
                    IntVector i = ints(seg, o + 2 + (long) p * L);
                    lookup(i, KV).mul(d).intoArray(dst, y + p * L);
                    lookup(high(i), KV).mul(d).intoArray(dst, y + 16 + p * L);
                }
            }
        }
    }
}

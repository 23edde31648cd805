package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

import java.lang.foreign.MemorySegment;

import static dev.rudder.runtime.tensor.NibbleBlocks.F;
import static dev.rudder.runtime.tensor.NibbleBlocks.L;
import static dev.rudder.runtime.tensor.NibbleBlocks.PARTS;
import static dev.rudder.runtime.tensor.NibbleBlocks.high;
import static dev.rudder.runtime.tensor.NibbleBlocks.lookup;

/**
 * ggml's IQ4_XS: blocks of 256 weights, {@code {f16 d; u16 scales_h; u8 scales_l[4]; u8 qs[128]}} (136 bytes, 4.25
 * bits per weight). Eight sub-blocks of 32 weights, each laid out as an IQ4_NL block's nibbles (weight j in the low
 * nibble of {@code qs[j]}, weight j + 16 in the high one) indexing {@code kvalues_iq4nl}, with a 6-bit scale {@code ls}
 * (low 4 bits in {@code scales_l}, high 2 in {@code scales_h}): weight = {@code (d * (ls - 32)) * table[nibble]}.
 */
public final class IQ4_XSMatrix extends BlockMatrix {
    public static final int BLOCK = 256;
    public static final int BLOCK_BYTES = 136;
    static final int SUB = 32;        // weights per sub-block (one scale)
    static final int QS = 8;          // byte offset of qs in a block

    public IQ4_XSMatrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    IQ4_XSMatrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, BLOCK, BLOCK_BYTES, vector);
    }

    @Override
    public DType dtype() {
        return DType.IQ4_XS;
    }

    @Override
    void dequantize(long offset, float[] dst, int dOff, int n) {
        dequantize(data, offset, dst, dOff, n);
    }

    /**
     * Sub-block {@code ib}'s multiplier {@code d * (ls - 32)}: {@code ls} is 6 bits, the low 4 from the block's
     * little-endian {@code scales_l} word, the high 2 from {@code scales_h}.
     */
    static float subScale(float d, int scalesH, int scalesL, int ib) {
        int ls = (scalesL >>> (4 * ib)) & 0xF | ((scalesH >>> (2 * ib)) & 3) << 4;
        return d * (ls - 32);
    }

    /** ggml's {@code dequantize_row_iq4_xs}. */
    static void dequantize(MemorySegment seg, long offset, float[] dst, int dOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float d = f16(seg, o);
            int sh = seg.get(SHORT_LE, o + 2), sl = seg.get(INT_LE, o + 4);
            for (int ib = 0; ib < BLOCK / SUB; ib++) {
                float dl = subScale(d, sh, sl, ib);
                int base = dOff + b * BLOCK + ib * SUB;
                for (int j = 0; j < SUB / 2; j++) {
                    int q = Q4KMatrix.u8(seg, o + QS + ib * (SUB / 2) + j);
                    dst[base + j] = dl * IQ4_NLMatrix.VALUES[q & 0xF];
                    dst[base + j + SUB / 2] = dl * IQ4_NLMatrix.VALUES[q >> 4];
                }
            }
        }
    }

    @Override
    RowKernel vectorKernel() {
        return new Vec(this);
    }

    /**
     * Fused dot as IQ4_NL's per sub-block (each nibble looked up as its table value, FMA with the activations), the
     * sub-block's sum scaled by {@code d * (ls - 32)}; widening (matmul) by the same values times that scale.
     */
    private static final class Vec extends BlockKernel {
        static final NibbleBlocks.Table KV = NibbleBlocks.table(values());

        Vec(IQ4_XSMatrix m) {
            super(m);
        }

        private static float[] values() {
            float[] f = new float[16];
            for (int k = 0; k < 16; k++) {
                f[k] = IQ4_NLMatrix.VALUES[k];
            }
            return f;
        }

        @Override
        void lanes(int row, float[] x, int xOff, float[] t, int tOff) {
            MemorySegment seg = m.data;
            long base = row * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = base + (long) b * BLOCK_BYTES;
                float d = f16(seg, o);
                int sh = seg.get(SHORT_LE, o + 2), sl = seg.get(INT_LE, o + 4);
                for (int ib = 0; ib < BLOCK / SUB; ib++) {
                    long q = o + QS + ib * (SUB / 2);
                    int xb = xOff + b * BLOCK + ib * SUB;
                    FloatVector s = FloatVector.zero(F);
                    for (int p = 0; p < PARTS; p++) {
                        IntVector i = ints(seg, q + (long) p * L);
                        s = lookup(i, KV).fma(FloatVector.fromArray(F, x, xb + p * L), s);
                        s = lookup(high(i), KV).fma(FloatVector.fromArray(F, x, xb + 16 + p * L), s);
                    }
                    acc = s.fma(FloatVector.broadcast(F, subScale(d, sh, sl, ib)), acc);
                }
            }
            acc.intoArray(t, tOff);
        }

        /** {@link #lanes} of rows rA and rB (same operations per row), sharing the activation loads. */
        @Override
        void lanes2(int rA, int rB, float[] x, int xOff, float[] t, int tOff) {
            MemorySegment seg = m.data;
            int bA = (int) (rA * rowBytes), bB = (int) (rB * rowBytes);
            FloatVector aA = FloatVector.zero(F), aB = FloatVector.zero(F);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                int oA = bA + b * BLOCK_BYTES, oB = bB + b * BLOCK_BYTES;
                float dA = f16(seg, oA), dB = f16(seg, oB);
                int shA = seg.get(SHORT_LE, oA + 2), slA = seg.get(INT_LE, oA + 4);
                int shB = seg.get(SHORT_LE, oB + 2), slB = seg.get(INT_LE, oB + 4);
                for (int ib = 0; ib < BLOCK / SUB; ib++) {
                    int q = QS + ib * (SUB / 2);
                    int xb = xOff + b * BLOCK + ib * SUB;
                    FloatVector sA = FloatVector.zero(F), sB = FloatVector.zero(F);
                    for (int p = 0; p < PARTS; p++) {
                        IntVector iA = ints(seg, oA + q + p * L), iB = ints(seg, oB + q + p * L);
                        FloatVector xl = FloatVector.fromArray(F, x, xb + p * L);
                        FloatVector xh = FloatVector.fromArray(F, x, xb + 16 + p * L);
                        sA = lookup(iA, KV).fma(xl, sA);
                        sB = lookup(iB, KV).fma(xl, sB);
                        sA = lookup(high(iA), KV).fma(xh, sA);
                        sB = lookup(high(iB), KV).fma(xh, sB);
                    }
                    aA = sA.fma(FloatVector.broadcast(F, subScale(dA, shA, slA, ib)), aA);
                    aB = sB.fma(FloatVector.broadcast(F, subScale(dB, shB, slB, ib)), aB);
                }
            }
            aA.intoArray(t, tOff);
            aB.intoArray(t, tOff + L);
        }

        /**
         * {@link #lanes2} with two inputs: each row's nibbles looked up once for both (batched decode); per row and
         * input the operations of {@link #lanes} in its order.
         */
        @Override
        void lanes2x2(int rA, int rB, float[] x, int xa, int xb, float[] t, int ta, int tb) {
            MemorySegment seg = m.data;
            int bA = (int) (rA * rowBytes), bB = (int) (rB * rowBytes);
            FloatVector aAa = FloatVector.zero(F), aBa = FloatVector.zero(F);
            FloatVector aAb = FloatVector.zero(F), aBb = FloatVector.zero(F);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                int oA = bA + b * BLOCK_BYTES, oB = bB + b * BLOCK_BYTES;
                float dA = f16(seg, oA), dB = f16(seg, oB);
                int shA = seg.get(SHORT_LE, oA + 2), slA = seg.get(INT_LE, oA + 4);
                int shB = seg.get(SHORT_LE, oB + 2), slB = seg.get(INT_LE, oB + 4);
                for (int ib = 0; ib < BLOCK / SUB; ib++) {
                    int q = QS + ib * (SUB / 2);
                    int xo = b * BLOCK + ib * SUB;
                    FloatVector sAa = FloatVector.zero(F), sBa = FloatVector.zero(F);
                    FloatVector sAb = FloatVector.zero(F), sBb = FloatVector.zero(F);
                    for (int p = 0; p < PARTS; p++) {
                        IntVector iA = ints(seg, oA + q + p * L), iB = ints(seg, oB + q + p * L);
                        FloatVector lA = lookup(iA, KV), hA = lookup(high(iA), KV);
                        FloatVector lB = lookup(iB, KV), hB = lookup(high(iB), KV);
                        FloatVector xl = FloatVector.fromArray(F, x, xa + xo + p * L);
                        FloatVector xh = FloatVector.fromArray(F, x, xa + xo + 16 + p * L);
                        sAa = hA.fma(xh, lA.fma(xl, sAa));
                        sBa = hB.fma(xh, lB.fma(xl, sBa));
                        xl = FloatVector.fromArray(F, x, xb + xo + p * L);
                        xh = FloatVector.fromArray(F, x, xb + xo + 16 + p * L);
                        sAb = hA.fma(xh, lA.fma(xl, sAb));
                        sBb = hB.fma(xh, lB.fma(xl, sBb));
                    }
                    FloatVector dlA = FloatVector.broadcast(F, subScale(dA, shA, slA, ib));
                    FloatVector dlB = FloatVector.broadcast(F, subScale(dB, shB, slB, ib));
                    aAa = sAa.fma(dlA, aAa);
                    aBa = sBa.fma(dlB, aBa);
                    aAb = sAb.fma(dlA, aAb);
                    aBb = sBb.fma(dlB, aBb);
                }
            }
            aAa.intoArray(t, ta);
            aBa.intoArray(t, ta + L);
            aAb.intoArray(t, tb);
            aBb.intoArray(t, tb + L);
        }

        /** The exact dequantization ({@code (d * (ls - 32)) * value}, as {@link IQ4_XSMatrix#dequantize}) in vectors. */
        @Override
        public void widen(int row, float[] dst, int off) {
            MemorySegment seg = m.data;
            long base = row * rowBytes;
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = base + (long) b * BLOCK_BYTES;
                float d = f16(seg, o);
                int sh = seg.get(SHORT_LE, o + 2), sl = seg.get(INT_LE, o + 4);
                for (int ib = 0; ib < BLOCK / SUB; ib++) {
                    FloatVector dl = FloatVector.broadcast(F, subScale(d, sh, sl, ib));
                    long q = o + QS + ib * (SUB / 2);
                    int y = off + b * BLOCK + ib * SUB;
                    for (int p = 0; p < PARTS; p++) {
                        IntVector i = ints(seg, q + (long) p * L);
                        lookup(i, KV).mul(dl).intoArray(dst, y + p * L);
                        lookup(high(i), KV).mul(dl).intoArray(dst, y + 16 + p * L);
                    }
                }
            }
        }
    }
}

package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;

import dev.rudder.runtime.kernel.Vectors;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * ggml's Q5_K: super-blocks of 256 weights, {@code {f16 d; f16 dmin; uint8 scales[12]; uint8 qh[32]; uint8 qs[128]}}
 * (176 bytes, 5.5 bits per weight): Q4_K plus a fifth bit per weight in {@code qh}.
 */
public final class Q5KMatrix extends BlockMatrix {
    public static final int BLOCK = 256;
    public static final int BLOCK_BYTES = 176;

    public Q5KMatrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    Q5KMatrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, BLOCK, BLOCK_BYTES, vector);
    }

    @Override
    public DType dtype() {
        return DType.Q5_K;
    }

    @Override
    RowKernel vectorKernel() {
        return new Vec(this);
    }

    /**
     * Fused dot as Q4_K's (scales made floats per super-block by {@link KScales#table}, L bytes per part), the fifth
     * bit of each weight taken from the 32 {@code qh} bytes; widening (matmul) by the same dequantization in vectors.
     */
    private static final class Vec extends BlockKernel {
        static final VectorSpecies<Float> F = Vectors.F;
        static final int L = Vectors.L;
        static final int PARTS = 32 / L;

        Vec(Q5KMatrix m) {
            super(m);
        }

        @Override
        void lanes(int row, float[] x, int xOff, float[] t, int tOff) {
            if (intOffsets) {
                row(m.data, (int) (row * rowBytes), m.cols / BLOCK, x, xOff, t, tOff, Scratch.get().scales());
            } else {
                row(rowSegment(row), 0, m.cols / BLOCK, x, xOff, t, tOff, Scratch.get().scales());
            }
        }

        @Override
        void lanes2x2(int rA, int rB, float[] x, int xa, int xb, float[] t, int ta, int tb) {
            int blocks = m.cols / BLOCK;
            float[] s = Scratch.get().scales();
            rowTwoInputs(m.data, (int) (rA * rowBytes), blocks, x, xa, xb, t, ta, tb, s);
            rowTwoInputs(m.data, (int) (rB * rowBytes), blocks, x, xa, xb, t, ta + L, tb + L, s);
        }

        /**
         * {@link #row} of the row at byte {@code b0} with two inputs, at {@code xa} (lanes to {@code t[ta ..)}) and
         * {@code xb} (to {@code t[tb ..)}): its 5-bit weights built once for both (batched decode); per input the
         * operations of {@link #row} in its order (the weights as the same integers, so the same floats). Vector API
         * calls only in the loop, scales decoded before it.
         */
        private static void rowTwoInputs(MemorySegment seg, int b0, int blocks, float[] x, int xa, int xb, float[] t,
                                         int ta, int tb, float[] s) {
            FloatVector qa = FloatVector.zero(F), ma = FloatVector.zero(F);
            FloatVector qb = FloatVector.zero(F), mb = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                int o = b0 + b * BLOCK_BYTES;
                KScales.table(seg, o, f16(seg, o), -f16(seg, o + 2), s, 0);
                int xo = b * BLOCK;
                for (int j = 0; j < 4; j++) {
                    float sc0 = s[2 * j], sc1 = s[2 * j + 1], mn0 = s[8 + 2 * j], mn1 = s[9 + 2 * j];
                    FloatVector loA = FloatVector.zero(F), hiA = FloatVector.zero(F);
                    FloatVector loB = FloatVector.zero(F), hiB = FloatVector.zero(F);
                    FloatVector sLoA = FloatVector.zero(F), sHiA = FloatVector.zero(F);
                    FloatVector sLoB = FloatVector.zero(F), sHiB = FloatVector.zero(F);
                    int x0 = xo + 64 * j;
                    for (int p = 0; p < PARTS; p++) {
                        IntVector q = (IntVector) ByteVector.fromMemorySegment(BYTES, seg, o + 48 + 32 * j + p * L,
                                ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, Vectors.I, 0);
                        IntVector hj = ((IntVector) ByteVector.fromMemorySegment(BYTES, seg, o + 16 + p * L,
                                ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, Vectors.I, 0))
                                .lanewise(VectorOperators.LSHR, 2 * j);
                        FloatVector lo = (FloatVector) q.and(0xF).or(hj.lanewise(VectorOperators.LSHL, 4).and(16))
                                .convert(VectorOperators.I2F, 0);          // as row's
                        FloatVector hi = (FloatVector) q.lanewise(VectorOperators.LSHR, 4)
                                .or(hj.lanewise(VectorOperators.LSHL, 3).and(16))
                                .convert(VectorOperators.I2F, 0);
                        FloatVector xl = FloatVector.fromArray(F, x, xa + x0 + p * L);
                        FloatVector xh = FloatVector.fromArray(F, x, xa + x0 + 32 + p * L);
                        loA = lo.fma(xl, loA);
                        hiA = hi.fma(xh, hiA);
                        sLoA = sLoA.add(xl);
                        sHiA = sHiA.add(xh);
                        xl = FloatVector.fromArray(F, x, xb + x0 + p * L);
                        xh = FloatVector.fromArray(F, x, xb + x0 + 32 + p * L);
                        loB = lo.fma(xl, loB);
                        hiB = hi.fma(xh, hiB);
                        sLoB = sLoB.add(xl);
                        sHiB = sHiB.add(xh);
                    }
                    qa = loA.fma(FloatVector.broadcast(F, sc0), qa);
                    ma = sLoA.fma(FloatVector.broadcast(F, mn0), ma);
                    qa = hiA.fma(FloatVector.broadcast(F, sc1), qa);
                    ma = sHiA.fma(FloatVector.broadcast(F, mn1), ma);
                    qb = loB.fma(FloatVector.broadcast(F, sc0), qb);
                    mb = sLoB.fma(FloatVector.broadcast(F, mn0), mb);
                    qb = hiB.fma(FloatVector.broadcast(F, sc1), qb);
                    mb = sHiB.fma(FloatVector.broadcast(F, mn1), mb);
                }
            }
            qa.add(ma).intoArray(t, ta);
            qb.add(mb).intoArray(t, tb);
        }

        /**
         * The row of {@code blocks} super-blocks at byte {@code base}: its accumulator lanes to {@code t[tOff ..)}.
         * Scales and mins made floats once per super-block ({@link KScales#table} into {@code s}, 16 floats).
         */
        private static void row(MemorySegment seg, int base, int blocks, float[] x, int xOff, float[] t, int tOff,
                                float[] s) {
            FloatVector accQ = FloatVector.zero(F);
            FloatVector accM = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                int o = base + b * BLOCK_BYTES;
                KScales.table(seg, o, f16(seg, o), -f16(seg, o + 2), s, 0);
                int xb = xOff + b * BLOCK;
                for (int j = 0; j < 4; j++) {
                    FloatVector qxLo = FloatVector.zero(F);
                    FloatVector qxHi = FloatVector.zero(F);
                    FloatVector sLo = FloatVector.zero(F);
                    FloatVector sHi = FloatVector.zero(F);
                    int x0 = xb + 64 * j;
                    for (int p = 0; p < PARTS; p++) {
                        // bytes zero-extended: the high nibble needs no mask; qh shifted once for both fifth bits
                        IntVector q = (IntVector) ByteVector.fromMemorySegment(BYTES, seg, o + 48 + 32 * j + p * L,
                                ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, Vectors.I, 0);
                        IntVector hj = ((IntVector) ByteVector.fromMemorySegment(BYTES, seg, o + 16 + p * L,
                                ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, Vectors.I, 0))
                                .lanewise(VectorOperators.LSHR, 2 * j);
                        FloatVector xl = FloatVector.fromArray(F, x, x0 + p * L);
                        FloatVector xh = FloatVector.fromArray(F, x, x0 + 32 + p * L);
                        FloatVector lo = (FloatVector) q.and(0xF).or(hj.lanewise(VectorOperators.LSHL, 4).and(16))
                                .convert(VectorOperators.I2F, 0);          // weights(q, 0, h, 2j)
                        FloatVector hi = (FloatVector) q.lanewise(VectorOperators.LSHR, 4)
                                .or(hj.lanewise(VectorOperators.LSHL, 3).and(16))
                                .convert(VectorOperators.I2F, 0);          // weights(q, 4, h, 2j + 1)
                        qxLo = lo.fma(xl, qxLo);
                        qxHi = hi.fma(xh, qxHi);
                        sLo = sLo.add(xl);
                        sHi = sHi.add(xh);
                    }
                    accQ = qxLo.fma(FloatVector.broadcast(F, s[2 * j]), accQ);
                    accM = sLo.fma(FloatVector.broadcast(F, s[8 + 2 * j]), accM);
                    accQ = qxHi.fma(FloatVector.broadcast(F, s[2 * j + 1]), accQ);
                    accM = sHi.fma(FloatVector.broadcast(F, s[9 + 2 * j]), accM);
                }
            }
            accQ.add(accM).intoArray(t, tOff);
        }

        /**
         * The exact dequantization in vectors: as {@link Q5KMatrix#dequantize}, {@code d1 * q - m1} with the product
         * rounded before the subtraction (a multiply, then the negated min added: the same bits, no FMA).
         */
        @Override
        public void widen(int row, float[] dst, int off) {
            MemorySegment seg = m.data;
            float[] s = Scratch.get().scales();
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = row * rowBytes + (long) b * BLOCK_BYTES;
                KScales.table(seg, o, f16(seg, o), -f16(seg, o + 2), s, 0);   // d * sc, -(dmin * m)
                int y = off + b * BLOCK;
                for (int j = 0; j < 4; j++) {
                    float d1 = s[2 * j], negM1 = s[8 + 2 * j];
                    float d2 = s[2 * j + 1], negM2 = s[9 + 2 * j];
                    int y0 = y + 64 * j;
                    for (int p = 0; p < PARTS; p++) {
                        // as row's loop, Vector API calls only
                        IntVector q = (IntVector) ByteVector.fromMemorySegment(BYTES, seg, o + 48 + 32L * j + p * L,
                                ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, Vectors.I, 0);
                        IntVector hj = ((IntVector) ByteVector.fromMemorySegment(BYTES, seg, o + 16 + p * L,
                                ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, Vectors.I, 0))
                                .lanewise(VectorOperators.LSHR, 2 * j);
                        ((FloatVector) q.and(0xF).or(hj.lanewise(VectorOperators.LSHL, 4).and(16))
                                .convert(VectorOperators.I2F, 0)).mul(d1).add(negM1).intoArray(dst, y0 + p * L);
                        ((FloatVector) q.lanewise(VectorOperators.LSHR, 4).or(hj.lanewise(VectorOperators.LSHL, 3).and(16))
                                .convert(VectorOperators.I2F, 0)).mul(d2).add(negM2).intoArray(dst, y0 + 32 + p * L);
                    }
                }
            }
        }
    }

    @Override
    void dequantize(long offset, float[] dst, int dOff, int n) {
        dequantize(data, offset, dst, dOff, n);
    }

    /** ggml's {@code dequantize_row_q5_K}. */
    static void dequantize(MemorySegment seg, long offset, float[] dst, int dOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float d = f16(seg, o);
            float min = f16(seg, o + 2);
            long scales = o + 4;
            long qh = o + 16;
            long ql = o + 48;
            int y = dOff + b * BLOCK;
            int u1 = 1;
            int u2 = 2;
            for (int j = 0, is = 0; j < BLOCK; j += 64, is += 2) {
                int sm1 = Q4KMatrix.scaleMin(seg, scales, is);
                int sm2 = Q4KMatrix.scaleMin(seg, scales, is + 1);
                float d1 = d * (sm1 & 0xFF);
                float m1 = min * (sm1 >> 8);
                float d2 = d * (sm2 & 0xFF);
                float m2 = min * (sm2 >> 8);
                for (int l = 0; l < 32; l++) {
                    int h = Q4KMatrix.u8(seg, qh + l);
                    dst[y++] = d1 * ((Q4KMatrix.u8(seg, ql + l) & 0xF) + ((h & u1) != 0 ? 16 : 0)) - m1;
                }
                for (int l = 0; l < 32; l++) {
                    int h = Q4KMatrix.u8(seg, qh + l);
                    dst[y++] = d2 * ((Q4KMatrix.u8(seg, ql + l) >> 4) + ((h & u2) != 0 ? 16 : 0)) - m2;
                }
                ql += 32;
                u1 <<= 2;
                u2 <<= 2;
            }
        }
    }
}

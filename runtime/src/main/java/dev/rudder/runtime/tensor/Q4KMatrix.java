package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;

import dev.rudder.runtime.kernel.Vectors;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * ggml's Q4_K: super-blocks of 256 weights, {@code {f16 d; f16 dmin; uint8 scales[12]; uint8 qs[128]}} (144 bytes,
 * 4.5 bits per weight): 8 sub-blocks of 32 with 6-bit scale and min each; weight = {@code d*sc*q - dmin*m}.
 */
public final class Q4KMatrix extends BlockMatrix {
    public static final int BLOCK = 256;
    public static final int BLOCK_BYTES = 144;

    public Q4KMatrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    Q4KMatrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, BLOCK, BLOCK_BYTES, vector);
    }

    @Override
    public DType dtype() {
        return DType.Q4_K;
    }

    @Override
    RowKernel vectorKernel() {
        return new Vec(this);
    }

    /**
     * Fused dot: per sub-block of 32, {@code d*sc * sum(q*x) - dmin*m * sum(x)}, the nibbles of L bytes at a time
     * turned into floats as {@link NibbleBlocks#lookup} would (written out in each loop: one permute of {@link #TABLE}
     * with 16 lanes; with 8, bytes zero-extended, masked or shifted, converted). The scale and min terms go to two accumulators (two
     * dependency chains instead of one). The super-block's 8 scales and 8 mins are made floats once, in vectors
     * ({@link KScales#table}); decoded per sub-block in scalar code they had cost as much as the dot product (Q4_K
     * [2048, 2048] matvec, 1 thread: 4.4-4.5 -> 5.2-5.4 G weights/s at best of 25 rounds). Rows one at a time: a
     * two-row loop sharing the activation loads was no faster from DRAM once the scales were out of the loop.
     * Widening (matmul) by the same weights.
     */
    private static final class Vec extends BlockKernel {
        static final VectorSpecies<Float> F = Vectors.F;
        static final int L = Vectors.L;
        static final int PARTS = 32 / L;
        /** Entry q: the float q. */
        static final NibbleBlocks.Table Q =
                NibbleBlocks.table(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});
        /** {@link #Q}'s vector (16 lanes: the whole table; 8 lanes use the table's linear form instead). */
        static final IntVector TABLE = Q.a();

        Vec(Q4KMatrix m) {
            super(m);
        }

        @Override
        void lanes2(int rA, int rB, float[] x, int xOff, float[] t, int tOff) {
            float[] s = Scratch.get().scales();
            row(m.data, (int) (rA * rowBytes), m.cols / BLOCK, x, xOff, t, tOff, s);
            row(m.data, (int) (rB * rowBytes), m.cols / BLOCK, x, xOff, t, tOff + L, s);
        }

        @Override
        void lanes2x2(int rA, int rB, float[] x, int xa, int xb, float[] t, int ta, int tb) {
            int blocks = m.cols / BLOCK;
            float[] s = Scratch.get().scales();
            rowTwoInputs(m.data, (int) (rA * rowBytes), blocks, x, xa, xb, t, ta, tb, s);
            rowTwoInputs(m.data, (int) (rB * rowBytes), blocks, x, xa, xb, t, ta + L, tb + L, s);
        }

        /**
         * {@link #row} of the row at byte {@code b} with two inputs, at {@code xa} (lanes to {@code t[ta ..)}) and
         * {@code xb} (to {@code t[tb ..)}): its nibbles looked up once for both (batched decode); per input the
         * operations of {@link #row} in its order. Vector API calls only in the loop, scales decoded before it.
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
                        FloatVector lo, hi;   // as row's
                        if (L == 16) {
                            IntVector i = (IntVector) ByteVector.fromMemorySegment(BYTES, seg, o + 16 + 32 * j + p * L,
                                    ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, Vectors.I, 0);
                            lo = i.selectFrom(TABLE).reinterpretAsFloats();
                            hi = i.lanewise(VectorOperators.ASHR, 4).selectFrom(TABLE).reinterpretAsFloats();
                        } else {
                            IntVector i = (IntVector) ByteVector.fromMemorySegment(BYTES, seg, o + 16 + 32 * j + p * L,
                                    ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, Vectors.I, 0);
                            lo = (FloatVector) i.and(0xF).convert(VectorOperators.I2F, 0);
                            hi = (FloatVector) i.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0);
                        }
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

        @Override
        void lanes(int row, float[] x, int xOff, float[] t, int tOff) {
            if (intOffsets) {
                row(m.data, (int) (row * rowBytes), m.cols / BLOCK, x, xOff, t, tOff, Scratch.get().scales());
            } else {
                row(rowSegment(row), 0, m.cols / BLOCK, x, xOff, t, tOff, Scratch.get().scales());
            }
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
                        FloatVector xl = FloatVector.fromArray(F, x, x0 + p * L);
                        FloatVector xh = FloatVector.fromArray(F, x, x0 + 32 + p * L);
                        FloatVector lo, hi;   // NibbleBlocks.lookup of the low and high nibbles
                        if (L == 16) {        // one permute of the 16-entry table
                            IntVector q = ints(seg, o + 16 + 32 * j + p * L);
                            lo = q.selectFrom(TABLE).reinterpretAsFloats();
                            hi = q.lanewise(VectorOperators.ASHR, 4).selectFrom(TABLE).reinterpretAsFloats();
                        } else {              // the nibbles themselves, converted: bytes zero-extended, so the high
                            // nibble needs no mask
                            IntVector q = (IntVector) ByteVector.fromMemorySegment(BYTES, seg, o + 16 + 32 * j + p * L,
                                    ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, Vectors.I, 0);
                            lo = (FloatVector) q.and(0xF).convert(VectorOperators.I2F, 0);
                            hi = (FloatVector) q.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0);
                        }
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
         * The exact dequantization in vectors: as {@link Q4KMatrix#dequantize}, {@code d1 * q - m1} with the product
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
                        // the nibbles as row's loop makes them floats, Vector API calls only
                        FloatVector lo, hi;
                        if (L == 16) {
                            IntVector q = (IntVector) ByteVector.fromMemorySegment(BYTES, seg, o + 16 + 32L * j + p * L,
                                    ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, Vectors.I, 0);
                            lo = q.selectFrom(TABLE).reinterpretAsFloats();
                            hi = q.lanewise(VectorOperators.ASHR, 4).selectFrom(TABLE).reinterpretAsFloats();
                        } else {
                            IntVector q = (IntVector) ByteVector.fromMemorySegment(BYTES, seg, o + 16 + 32L * j + p * L,
                                    ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.ZERO_EXTEND_B2I, Vectors.I, 0);
                            lo = (FloatVector) q.and(0xF).convert(VectorOperators.I2F, 0);
                            hi = (FloatVector) q.lanewise(VectorOperators.LSHR, 4).convert(VectorOperators.I2F, 0);
                        }
                        lo.mul(d1).add(negM1).intoArray(dst, y0 + p * L);
                        hi.mul(d2).add(negM2).intoArray(dst, y0 + 32 + p * L);
                    }
                }
            }
        }
    }

    @Override
    void dequantize(long offset, float[] dst, int dOff, int n) {
        dequantize(data, offset, dst, dOff, n);
    }

    /** ggml's {@code get_scale_min_k4}: scale (low int) and min (high int) of sub-block j from the 12 packed bytes. */
    static int scaleMin(MemorySegment seg, long scales, int j) {
        int sc;
        int m;
        if (j < 4) {
            sc = u8(seg, scales + j) & 63;
            m = u8(seg, scales + j + 4) & 63;
        } else {
            sc = (u8(seg, scales + j + 4) & 0xF) | ((u8(seg, scales + j - 4) >> 6) << 4);
            m = (u8(seg, scales + j + 4) >> 4) | ((u8(seg, scales + j) >> 6) << 4);
        }
        return sc | (m << 8);
    }

    static int u8(MemorySegment seg, long o) {
        return seg.get(ValueLayout.JAVA_BYTE, o) & 0xFF;
    }

    /** ggml's {@code dequantize_row_q4_K}. */
    static void dequantize(MemorySegment seg, long offset, float[] dst, int dOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float d = f16(seg, o);
            float min = f16(seg, o + 2);
            long scales = o + 4;
            long q = o + 16;
            int y = dOff + b * BLOCK;
            for (int j = 0, is = 0; j < BLOCK; j += 64, is += 2) {
                int sm1 = scaleMin(seg, scales, is);
                int sm2 = scaleMin(seg, scales, is + 1);
                float d1 = d * (sm1 & 0xFF);
                float m1 = min * (sm1 >> 8);
                float d2 = d * (sm2 & 0xFF);
                float m2 = min * (sm2 >> 8);
                for (int l = 0; l < 32; l++) {
                    dst[y++] = d1 * (u8(seg, q + l) & 0xF) - m1;
                }
                for (int l = 0; l < 32; l++) {
                    dst[y++] = d2 * (u8(seg, q + l) >> 4) - m2;
                }
                q += 32;
            }
        }
    }
}

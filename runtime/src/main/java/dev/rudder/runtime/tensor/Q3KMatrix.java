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
 * ggml's Q3_K: super-blocks of 256 weights, {@code {uint8 hmask[32]; uint8 qs[64]; uint8 scales[12]; f16 d}} (110
 * bytes, 3.4375 bits per weight): 16 groups of 16 weights with a 6-bit scale each (stored minus 32); weight =
 * {@code d * (sc - 32) * q} with q in -4..3: the 2-bit field of {@code qs} (laid out as Q2_K's: weight
 * {@code i = 128*h + 32*j + l} is bits {@code 2*j} of {@code qs[32*h + l]}) minus 4 where bit {@code 4*h + j} of
 * {@code hmask[l]} is clear. Group {@code i / 16}.
 */
public final class Q3KMatrix extends BlockMatrix {
    public static final int BLOCK = 256;
    public static final int BLOCK_BYTES = 110;
    /** Byte offsets in a super-block. */
    static final int QS = 32, SCALES = 96, D = 108;

    public Q3KMatrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    Q3KMatrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, BLOCK, BLOCK_BYTES, vector);
    }

    @Override
    public DType dtype() {
        return DType.Q3_K;
    }

    @Override
    RowKernel vectorKernel() {
        return new Vec(this);
    }

    /**
     * Scale {@code g} (0..15) minus 32, from the 12 scale bytes read as three little-endian words: its low 4 bits are
     * the low (g < 8) or high nibble of byte {@code g % 8}, its high 2 bits bits {@code 2*(g/4)} of byte
     * {@code 8 + g%4} (ggml's repacking of {@code aux} in {@code dequantize_row_q3_K}).
     */
    static int scale(int w0, int w1, int w2, int g) {
        int low = (((g & 4) == 0 ? w0 : w1) >>> (8 * (g & 3) + 4 * (g >> 3))) & 0xF;
        int high = (w2 >>> (8 * (g & 3) + 2 * (g >> 2))) & 3;
        return (low | high << 4) - 32;
    }

    /**
     * Fused dot: per part (L positions of the 32 hmask bytes) the hmask bytes are loaded once and, for each half
     * super-block, the quant bytes once; each of the four 2-bit fields is shifted out, joined with its hmask bit,
     * made float, scaled by {@code d * (sc - 32)} of its group (decoded in scalar code, {@link #scale}) and multiplied
     * with the activations by FMA; two accumulators (fields 0, 2 and 1, 3). Batched decode makes each weight vector
     * once for two inputs. Widening (matmul) by the exact dequantization in vectors.
     */
    private static final class Vec extends BlockKernel {
        static final VectorSpecies<Float> F = Vectors.F;
        static final int L = Vectors.L;
        /** Float vectors per 32 hmask bytes. */
        static final int PARTS = 32 / L;

        Vec(Q3KMatrix m) {
            super(m);
        }

        @Override
        void lanes(int row, float[] x, int xOff, float[] t, int tOff) {
            if (intOffsets) {
                row(m.data, (int) (row * rowBytes), m.cols / BLOCK, x, xOff, t, tOff);
            } else {
                row(rowSegment(row), 0, m.cols / BLOCK, x, xOff, t, tOff);
            }
        }

        @Override
        void lanes2x2(int rA, int rB, float[] x, int xa, int xb, float[] t, int ta, int tb) {
            int blocks = m.cols / BLOCK;
            rowTwoInputs(m.data, (int) (rA * rowBytes), blocks, x, xa, xb, t, ta, tb);
            rowTwoInputs(m.data, (int) (rB * rowBytes), blocks, x, xa, xb, t, ta + L, tb + L);
        }

        /**
         * {@link #row} of the row at byte {@code base} with two inputs, at {@code xa} (lanes to {@code t[ta ..)}) and
         * {@code xb} (to {@code t[tb ..)}): each weight vector made once for both (batched decode); per input the
         * operations of {@link #row} in its order. Vector API calls only in the loop (a larger compilation: see
         * KernelInliningTest), scales decoded in scalar code.
         */
        private static void rowTwoInputs(MemorySegment seg, int base, int blocks, float[] x, int xa, int xb, float[] t,
                                         int ta, int tb) {
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
            FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                int o = base + b * BLOCK_BYTES;
                float d = f16(seg, o + D);
                int w0 = seg.get(INT_LE, o + SCALES), w1 = seg.get(INT_LE, o + SCALES + 4), w2 = seg.get(INT_LE, o + SCALES + 8);
                for (int p = 0; p < PARTS; p++) {
                    IntVector hm = ((IntVector) ByteVector.fromMemorySegment(BYTES, seg, o + p * L, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2I, Vectors.I, 0)).lanewise(VectorOperators.LSHL, 2);
                    int sub = (p * L) / 16;
                    for (int h = 0; h < 2; h++) {
                        IntVector q = (IntVector) ByteVector.fromMemorySegment(BYTES, seg, o + QS + 32 * h + p * L,
                                ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, Vectors.I, 0);
                        int xq = b * BLOCK + 128 * h + p * L;
                        for (int j = 0; j < 4; j += 2) {
                            float s0 = d * scale(w0, w1, w2, 8 * h + 2 * j + sub);
                            float s1 = d * scale(w0, w1, w2, 8 * h + 2 * j + 2 + sub);
                            FloatVector v0 = ((FloatVector) q.lanewise(VectorOperators.ASHR, 2 * j).and(3)
                                    .or(hm.lanewise(VectorOperators.ASHR, 4 * h + j).and(4)).sub(4)
                                    .convert(VectorOperators.I2F, 0)).mul(s0);
                            FloatVector v1 = ((FloatVector) q.lanewise(VectorOperators.ASHR, 2 * j + 2).and(3)
                                    .or(hm.lanewise(VectorOperators.ASHR, 4 * h + j + 1).and(4)).sub(4)
                                    .convert(VectorOperators.I2F, 0)).mul(s1);
                            a0 = v0.fma(FloatVector.fromArray(F, x, xa + xq + 32 * j), a0);
                            a1 = v1.fma(FloatVector.fromArray(F, x, xa + xq + 32 * j + 32), a1);
                            c0 = v0.fma(FloatVector.fromArray(F, x, xb + xq + 32 * j), c0);
                            c1 = v1.fma(FloatVector.fromArray(F, x, xb + xq + 32 * j + 32), c1);
                        }
                    }
                }
            }
            a0.add(a1).intoArray(t, ta);
            c0.add(c1).intoArray(t, tb);
        }

        /** The row of {@code blocks} super-blocks at byte {@code base}: its accumulator lanes to {@code t[tOff ..)}. */
        private static void row(MemorySegment seg, int base, int blocks, float[] x, int xOff, float[] t, int tOff) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                int o = base + b * BLOCK_BYTES;
                float d = f16(seg, o + D);
                int w0 = seg.get(INT_LE, o + SCALES), w1 = seg.get(INT_LE, o + SCALES + 4), w2 = seg.get(INT_LE, o + SCALES + 8);
                for (int p = 0; p < PARTS; p++) {
                    IntVector hm = ints(seg, o + p * L).lanewise(VectorOperators.LSHL, 2);   // hmask bit k at k + 2
                    int sub = (p * L) / 16;
                    for (int h = 0; h < 2; h++) {
                        IntVector q = ints(seg, o + QS + 32 * h + p * L);
                        int xq = xOff + b * BLOCK + 128 * h + p * L;
                        for (int j = 0; j < 4; j += 2) {
                            float s0 = d * scale(w0, w1, w2, 8 * h + 2 * j + sub);
                            float s1 = d * scale(w0, w1, w2, 8 * h + 2 * j + 2 + sub);
                            FloatVector v0 = (FloatVector) q.lanewise(VectorOperators.ASHR, 2 * j).and(3)
                                    .or(hm.lanewise(VectorOperators.ASHR, 4 * h + j).and(4)).sub(4)
                                    .convert(VectorOperators.I2F, 0);
                            FloatVector v1 = (FloatVector) q.lanewise(VectorOperators.ASHR, 2 * j + 2).and(3)
                                    .or(hm.lanewise(VectorOperators.ASHR, 4 * h + j + 1).and(4)).sub(4)
                                    .convert(VectorOperators.I2F, 0);
                            acc0 = v0.mul(s0).fma(FloatVector.fromArray(F, x, xq + 32 * j), acc0);
                            acc1 = v1.mul(s1).fma(FloatVector.fromArray(F, x, xq + 32 * j + 32), acc1);
                        }
                    }
                }
            }
            acc0.add(acc1).intoArray(t, tOff);
        }

        /** The exact dequantization in vectors: as {@link Q3KMatrix#dequantize}, {@code (d * (sc - 32)) * q}. */
        @Override
        public void widen(int row, float[] dst, int off) {
            MemorySegment seg = m.data;
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = row * rowBytes + (long) b * BLOCK_BYTES;
                float d = f16(seg, o + D);
                int w0 = seg.get(INT_LE, o + SCALES), w1 = seg.get(INT_LE, o + SCALES + 4), w2 = seg.get(INT_LE, o + SCALES + 8);
                for (int p = 0; p < PARTS; p++) {
                    IntVector hm = ints(seg, o + p * L).lanewise(VectorOperators.LSHL, 2);
                    int sub = (p * L) / 16;
                    for (int h = 0; h < 2; h++) {
                        IntVector q = ints(seg, o + QS + 32 * h + p * L);
                        int y = off + b * BLOCK + 128 * h + p * L;
                        for (int j = 0; j < 4; j++) {
                            ((FloatVector) q.lanewise(VectorOperators.ASHR, 2 * j).and(3)
                                    .or(hm.lanewise(VectorOperators.ASHR, 4 * h + j).and(4)).sub(4)
                                    .convert(VectorOperators.I2F, 0))
                                    .mul(d * scale(w0, w1, w2, 8 * h + 2 * j + sub)).intoArray(dst, y + 32 * j);
                        }
                    }
                }
            }
        }
    }

    @Override
    void dequantize(long offset, float[] dst, int dOff, int n) {
        dequantize(data, offset, dst, dOff, n);
    }

    /** ggml's {@code dequantize_row_q3_K}. */
    static void dequantize(MemorySegment seg, long offset, float[] dst, int dOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float dAll = f16(seg, o + D);
            int y = dOff + b * BLOCK;
            for (int h = 0; h < 2; h++) {
                long q = o + QS + 32 * h;
                for (int j = 0; j < 4; j++) {
                    int m = 1 << (4 * h + j);
                    for (int sub = 0; sub < 2; sub++) {
                        int g = 8 * h + 2 * j + sub;   // 4 low bits: low nibbles of bytes 0..7, then high; 2 high: 8..11
                        int low = g < 8 ? Q4KMatrix.u8(seg, o + SCALES + g) & 0xF : Q4KMatrix.u8(seg, o + SCALES + g - 8) >> 4;
                        int high = (Q4KMatrix.u8(seg, o + SCALES + 8 + g % 4) >> 2 * (g / 4)) & 3;
                        float dl = dAll * ((low | high << 4) - 32);
                        for (int l = 16 * sub; l < 16 * sub + 16; l++) {
                            int q2 = (Q4KMatrix.u8(seg, q + l) >> 2 * j) & 3;
                            dst[y++] = dl * (q2 - ((Q4KMatrix.u8(seg, o + l) & m) != 0 ? 0 : 4));
                        }
                    }
                }
            }
        }
    }
}

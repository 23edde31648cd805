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
 * ggml's Q2_K: super-blocks of 256 weights, {@code {uint8 scales[16]; uint8 qs[64]; f16 d; f16 dmin}} (84 bytes,
 * 2.625 bits per weight): 16 groups of 16 weights, each with a 4-bit scale (low nibble of its scale byte) and a 4-bit
 * min (high nibble); weight = {@code d*sc*q - dmin*m} with q the 2-bit quant. Weight {@code i} of a super-block is
 * bits {@code 2*j} of {@code qs[32*h + l]} where {@code i = 128*h + 32*j + l} (h the half, j 0..3, l 0..31), and its
 * group is {@code i / 16}.
 */
public final class Q2KMatrix extends BlockMatrix {
    public static final int BLOCK = 256;
    public static final int BLOCK_BYTES = 84;
    /** Byte offsets in a super-block. */
    static final int QS = 16, D = 80, DMIN = 82;

    public Q2KMatrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    Q2KMatrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, BLOCK, BLOCK_BYTES, vector);
    }

    @Override
    public DType dtype() {
        return DType.Q2_K;
    }

    @Override
    RowKernel vectorKernel() {
        return new Vec(this);
    }

    /**
     * Fused dot: L quant bytes loaded once per part (int lanes), their four 2-bit fields shifted out in turn, made
     * float and turned into weights {@code q * (d*sc) - dmin*m} by one FMA with the group's scale and min broadcast
     * (decoded in scalar code), then one FMA with the activations; two accumulators (fields 0, 2 and 1, 3) for two
     * dependency chains. Batched decode makes each weight vector once for two inputs. Widening (matmul) by the exact
     * dequantization in vectors.
     */
    private static final class Vec extends BlockKernel {
        static final VectorSpecies<Float> F = Vectors.F;
        static final int L = Vectors.L;
        /** Float vectors per 32 quant bytes (a half super-block's qs). */
        static final int PARTS = 32 / L;

        Vec(Q2KMatrix m) {
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
         * KernelInliningTest).
         */
        private static void rowTwoInputs(MemorySegment seg, int base, int blocks, float[] x, int xa, int xb, float[] t,
                                         int ta, int tb) {
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
            FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                int o = base + b * BLOCK_BYTES;
                float d = f16(seg, o + D), negMin = -f16(seg, o + DMIN);
                for (int h = 0; h < 2; h++) {
                    for (int p = 0; p < PARTS; p++) {
                        IntVector q = (IntVector) ByteVector.fromMemorySegment(BYTES, seg, o + QS + 32 * h + p * L,
                                ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, Vectors.I, 0);
                        int g = o + 8 * h + (p * L) / 16;
                        int xq = b * BLOCK + 128 * h + p * L;
                        for (int j = 0; j < 4; j += 2) {
                            int s0 = seg.get(ValueLayout.JAVA_BYTE, g + 2 * j) & 0xFF;
                            int s1 = seg.get(ValueLayout.JAVA_BYTE, g + 2 * j + 2) & 0xFF;
                            FloatVector w0 = ((FloatVector) q.lanewise(VectorOperators.ASHR, 2 * j).and(3)
                                    .convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * (s0 & 0xF)),
                                    FloatVector.broadcast(F, negMin * (s0 >> 4)));
                            FloatVector w1 = ((FloatVector) q.lanewise(VectorOperators.ASHR, 2 * j + 2).and(3)
                                    .convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * (s1 & 0xF)),
                                    FloatVector.broadcast(F, negMin * (s1 >> 4)));
                            a0 = w0.fma(FloatVector.fromArray(F, x, xa + xq + 32 * j), a0);
                            a1 = w1.fma(FloatVector.fromArray(F, x, xa + xq + 32 * j + 32), a1);
                            c0 = w0.fma(FloatVector.fromArray(F, x, xb + xq + 32 * j), c0);
                            c1 = w1.fma(FloatVector.fromArray(F, x, xb + xq + 32 * j + 32), c1);
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
                float d = f16(seg, o + D), negMin = -f16(seg, o + DMIN);
                for (int h = 0; h < 2; h++) {
                    for (int p = 0; p < PARTS; p++) {
                        IntVector q = ints(seg, o + QS + 32 * h + p * L);
                        int g = o + 8 * h + (p * L) / 16;   // scale byte of field 0's group; field j's is g + 2j
                        int xq = xOff + b * BLOCK + 128 * h + p * L;
                        for (int j = 0; j < 4; j += 2) {
                            int s0 = seg.get(ValueLayout.JAVA_BYTE, g + 2 * j) & 0xFF;
                            int s1 = seg.get(ValueLayout.JAVA_BYTE, g + 2 * j + 2) & 0xFF;
                            FloatVector w0 = ((FloatVector) q.lanewise(VectorOperators.ASHR, 2 * j).and(3)
                                    .convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * (s0 & 0xF)),
                                    FloatVector.broadcast(F, negMin * (s0 >> 4)));
                            FloatVector w1 = ((FloatVector) q.lanewise(VectorOperators.ASHR, 2 * j + 2).and(3)
                                    .convert(VectorOperators.I2F, 0)).fma(FloatVector.broadcast(F, d * (s1 & 0xF)),
                                    FloatVector.broadcast(F, negMin * (s1 >> 4)));
                            acc0 = w0.fma(FloatVector.fromArray(F, x, xq + 32 * j), acc0);
                            acc1 = w1.fma(FloatVector.fromArray(F, x, xq + 32 * j + 32), acc1);
                        }
                    }
                }
            }
            acc0.add(acc1).intoArray(t, tOff);
        }

        /**
         * The exact dequantization in vectors: as {@link Q2KMatrix#dequantize}, {@code dl * q - ml} with the product
         * rounded before the subtraction (a multiply then a subtract, no FMA).
         */
        @Override
        public void widen(int row, float[] dst, int off) {
            MemorySegment seg = m.data;
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = row * rowBytes + (long) b * BLOCK_BYTES;
                float d = f16(seg, o + D), dmin = f16(seg, o + DMIN);
                for (int h = 0; h < 2; h++) {
                    for (int p = 0; p < PARTS; p++) {
                        IntVector q = ints(seg, o + QS + 32 * h + p * L);
                        long g = o + 8 * h + (p * L) / 16;
                        int y = off + b * BLOCK + 128 * h + p * L;
                        for (int j = 0; j < 4; j++) {
                            int s = seg.get(ValueLayout.JAVA_BYTE, g + 2 * j) & 0xFF;
                            ((FloatVector) q.lanewise(VectorOperators.ASHR, 2 * j).and(3).convert(VectorOperators.I2F, 0))
                                    .mul(d * (s & 0xF)).sub(dmin * (s >> 4)).intoArray(dst, y + 32 * j);
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

    /** ggml's {@code dequantize_row_q2_K}. */
    static void dequantize(MemorySegment seg, long offset, float[] dst, int dOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float d = f16(seg, o + D);
            float min = f16(seg, o + DMIN);
            int y = dOff + b * BLOCK;
            for (int h = 0; h < 2; h++) {
                long q = o + QS + 32 * h;
                for (int j = 0; j < 4; j++) {
                    for (int sub = 0; sub < 2; sub++) {   // groups 8h + 2j and 8h + 2j + 1: qs[0..15], qs[16..31]
                        int sc = Q4KMatrix.u8(seg, o + 8 * h + 2 * j + sub);
                        float dl = d * (sc & 0xF);
                        float ml = min * (sc >> 4);
                        for (int l = 0; l < 16; l++) {
                            dst[y++] = dl * ((Q4KMatrix.u8(seg, q + 16 * sub + l) >> 2 * j) & 3) - ml;
                        }
                    }
                }
            }
        }
    }
}

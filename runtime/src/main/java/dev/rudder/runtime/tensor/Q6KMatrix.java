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
 * ggml's Q6_K: super-blocks of 256 weights, {@code {uint8 ql[128]; uint8 qh[64]; int8 scales[16]; f16 d}} (210 bytes,
 * 6.5625 bits per weight): 16 sub-blocks of 16 with an 8-bit scale each; weight = {@code d * sc * (q - 32)}.
 */
public final class Q6KMatrix extends BlockMatrix {
    public static final int BLOCK = 256;
    public static final int BLOCK_BYTES = 210;

    public Q6KMatrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    Q6KMatrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, BLOCK, BLOCK_BYTES, vector);
    }

    @Override
    public DType dtype() {
        return DType.Q6_K;
    }

    @Override
    RowKernel vectorKernel() {
        return new Vec(this);
    }

    /**
     * Fused dot in one pass over the row ({@link Vec#row}), L positions at a time: each 6-bit quant rebuilt in byte
     * lanes from L-byte loads of ql and qh (a 16-lane byte op costs half a 16-lane int op on AVX-512), then widened and
     * made float, multiplied with the activations and by {@code d * scale} of its 16-weight group (the super-block's
     * 16 scales made floats once per super-block, written out in each loop: Vector API calls only); one accumulator
     * per quarter of a half super-block, int byte offsets. Widening (matmul) by the same dequantization in vectors, a quarter super-block per call (a whole half
     * per method allocated its vectors once compiled; KernelAllocationTest).
     */
    private static final class Vec extends BlockKernel {
        static final VectorSpecies<Float> F = Vectors.F;
        static final int L = Vectors.L;
        static final int PARTS = 32 / L;

        Vec(Q6KMatrix m) {
            super(m);
        }

        @Override
        void lanes(int row, float[] x, int xOff, float[] t, int tOff) {
            rowLanes(row, x, xOff, t, tOff, Scratch.get().scales());
        }

        @Override
        void lanes2(int rA, int rB, float[] x, int xOff, float[] t, int tOff) {
            float[] s = Scratch.get().scales();
            rowLanes(rA, x, xOff, t, tOff, s);
            rowLanes(rB, x, xOff, t, tOff + L, s);
        }

        private void rowLanes(int row, float[] x, int xOff, float[] t, int tOff, float[] s) {
            MemorySegment seg = intOffsets ? m.data : rowSegment(row);
            int base = intOffsets ? (int) (row * rowBytes) : 0;
            row(seg, base, m.cols / BLOCK, x, xOff, t, tOff, s);
        }

        /**
         * The row at byte {@code base}, all four quarters of each half super-block in one pass (the row streams from
         * memory once): per L positions, the 6-bit quants of the four quarters rebuilt in byte lanes from one load each
         * of qh and ql's two columns (masks and 16-bit shifts: x86 has no byte shift, and the bits that cross into the
         * neighbouring byte are the ones masked off), widened to float, times the activations, times
         * {@code d * scale} of their 16-weight group ({@code s}, per super-block); the accumulator lanes of quarters
         * 0+1 plus those of 2+3 to {@code t[tOff ..)}. Only Vector API calls in the loop: C2 inlines those whatever the
         * size of the compilation, where a helper of ours past its inlining budget would box the vectors.
         */
        private static void row(MemorySegment seg, int base, int blocks, float[] x, int xOff, float[] t, int tOff,
                                float[] s) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            FloatVector acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                int o = base + b * BLOCK_BYTES;
                for (int k = 0; k < 16; k += L) {   // the super-block's 16 scales times d, rounded as dequantize rounds them
                    ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(BYTES, seg, o + 192 + k, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2I, Vectors.I, 0)).convert(VectorOperators.I2F, 0))
                            .mul(f16(seg, o + 208)).intoArray(s, 0 + k);
                }
                for (int half = 0; half < 2; half++) {
                    int ql = o + 64 * half, qh = o + 128 + 32 * half;
                    int xq = xOff + b * BLOCK + 128 * half;
                    for (int p = 0; p < PARTS; p++) {
                        ByteVector h = ByteVector.fromMemorySegment(BYTES, seg, qh + p * L, ByteOrder.LITTLE_ENDIAN);
                        ByteVector qa = ByteVector.fromMemorySegment(BYTES, seg, ql + p * L, ByteOrder.LITTLE_ENDIAN);
                        ByteVector qc = ByteVector.fromMemorySegment(BYTES, seg, ql + 32 + p * L, ByteOrder.LITTLE_ENDIAN);
                        int g = 8 * half + (p * L) / 16;   // the scale of these positions' 16-weight group in quarter 0
                        // quarter 0: low nibbles of column a, h bits 0-1; 1: column c, bits 2-3; 2: high nibbles of a,
                        // bits 4-5; 3: high nibbles of c, bits 6-7 (each moved to bits 4-5, then minus 32)
                        ByteVector w0 = qa.and((byte) 0xF).or(h.reinterpretAsShorts().lanewise(VectorOperators.LSHL, 4)
                                .reinterpretAsBytes().and((byte) 0x30)).sub((byte) 32);
                        ByteVector w1 = qc.and((byte) 0xF).or(h.reinterpretAsShorts().lanewise(VectorOperators.LSHL, 2)
                                .reinterpretAsBytes().and((byte) 0x30)).sub((byte) 32);
                        ByteVector w2 = qa.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                                .and((byte) 0xF).or(h.and((byte) 0x30)).sub((byte) 32);
                        ByteVector w3 = qc.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4).reinterpretAsBytes()
                                .and((byte) 0xF).or(h.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 2)
                                        .reinterpretAsBytes().and((byte) 0x30)).sub((byte) 32);
                        acc0 = ((FloatVector) ((IntVector) w0.convertShape(VectorOperators.B2I, Vectors.I, 0))
                                .convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xq + p * L))
                                .fma(FloatVector.broadcast(F, s[g]), acc0);
                        acc1 = ((FloatVector) ((IntVector) w1.convertShape(VectorOperators.B2I, Vectors.I, 0))
                                .convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xq + 32 + p * L))
                                .fma(FloatVector.broadcast(F, s[g + 2]), acc1);
                        acc2 = ((FloatVector) ((IntVector) w2.convertShape(VectorOperators.B2I, Vectors.I, 0))
                                .convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xq + 64 + p * L))
                                .fma(FloatVector.broadcast(F, s[g + 4]), acc2);
                        acc3 = ((FloatVector) ((IntVector) w3.convertShape(VectorOperators.B2I, Vectors.I, 0))
                                .convert(VectorOperators.I2F, 0)).mul(FloatVector.fromArray(F, x, xq + 96 + p * L))
                                .fma(FloatVector.broadcast(F, s[g + 6]), acc3);
                    }
                }
            }
            acc0.add(acc1).add(acc2.add(acc3)).intoArray(t, tOff);
        }

        @Override
        void lanes2x2(int rA, int rB, float[] x, int xa, int xb, float[] t, int ta, int tb) {
            int blocks = m.cols / BLOCK;
            float[] s = Scratch.get().scales();
            for (int k = 0; k < 2; k++) {
                int base = (int) ((k == 0 ? rA : rB) * rowBytes);
                rowTwoInputs(m.data, base, blocks, x, xa, xb, t, ta + k * L, tb + k * L, s);
            }
        }

        /**
         * {@link #row} with two inputs, at {@code xa} (lanes to {@code t[ta ..)}) and {@code xb} (to {@code t[tb ..)}):
         * each weight rebuilt once for both (batched decode), per input {@link #row}'s operations in its order.
         */
        private static void rowTwoInputs(MemorySegment seg, int base, int blocks, float[] x, int xa, int xb, float[] t,
                                         int ta, int tb, float[] s) {
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            FloatVector c0 = FloatVector.zero(F), c1 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                int o = base + b * BLOCK_BYTES;
                for (int k = 0; k < 16; k += L) {   // the super-block's 16 scales times d, rounded as dequantize rounds them
                    ((FloatVector) ((IntVector) ByteVector.fromMemorySegment(BYTES, seg, o + 192 + k, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2I, Vectors.I, 0)).convert(VectorOperators.I2F, 0))
                            .mul(f16(seg, o + 208)).intoArray(s, 0 + k);
                }
                for (int half = 0; half < 2; half++) {
                    int ql = o + 64 * half, qh = o + 128 + 32 * half;
                    int xq = b * BLOCK + 128 * half;
                    for (int p = 0; p < PARTS; p++) {
                        ByteVector h = ByteVector.fromMemorySegment(BYTES, seg, qh + p * L, ByteOrder.LITTLE_ENDIAN);
                        ByteVector qa = ByteVector.fromMemorySegment(BYTES, seg, ql + p * L, ByteOrder.LITTLE_ENDIAN);
                        ByteVector qc = ByteVector.fromMemorySegment(BYTES, seg, ql + 32 + p * L, ByteOrder.LITTLE_ENDIAN);
                        int g = 8 * half + (p * L) / 16;
                        FloatVector w0 = (FloatVector) ((IntVector) qa.and((byte) 0xF).or(h.reinterpretAsShorts()
                                .lanewise(VectorOperators.LSHL, 4).reinterpretAsBytes().and((byte) 0x30)).sub((byte) 32)
                                .convertShape(VectorOperators.B2I, Vectors.I, 0)).convert(VectorOperators.I2F, 0);
                        FloatVector w1 = (FloatVector) ((IntVector) qc.and((byte) 0xF).or(h.reinterpretAsShorts()
                                .lanewise(VectorOperators.LSHL, 2).reinterpretAsBytes().and((byte) 0x30)).sub((byte) 32)
                                .convertShape(VectorOperators.B2I, Vectors.I, 0)).convert(VectorOperators.I2F, 0);
                        FloatVector w2 = (FloatVector) ((IntVector) qa.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4)
                                .reinterpretAsBytes().and((byte) 0xF).or(h.and((byte) 0x30)).sub((byte) 32)
                                .convertShape(VectorOperators.B2I, Vectors.I, 0)).convert(VectorOperators.I2F, 0);
                        FloatVector w3 = (FloatVector) ((IntVector) qc.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 4)
                                .reinterpretAsBytes().and((byte) 0xF).or(h.reinterpretAsShorts().lanewise(VectorOperators.LSHR, 2)
                                        .reinterpretAsBytes().and((byte) 0x30)).sub((byte) 32)
                                .convertShape(VectorOperators.B2I, Vectors.I, 0)).convert(VectorOperators.I2F, 0);
                        FloatVector s0 = FloatVector.broadcast(F, s[g]), s1 = FloatVector.broadcast(F, s[g + 2]);
                        FloatVector s2 = FloatVector.broadcast(F, s[g + 4]), s3 = FloatVector.broadcast(F, s[g + 6]);
                        a0 = w0.mul(FloatVector.fromArray(F, x, xa + xq + p * L)).fma(s0, a0);
                        a1 = w1.mul(FloatVector.fromArray(F, x, xa + xq + 32 + p * L)).fma(s1, a1);
                        a2 = w2.mul(FloatVector.fromArray(F, x, xa + xq + 64 + p * L)).fma(s2, a2);
                        a3 = w3.mul(FloatVector.fromArray(F, x, xa + xq + 96 + p * L)).fma(s3, a3);
                        c0 = w0.mul(FloatVector.fromArray(F, x, xb + xq + p * L)).fma(s0, c0);
                        c1 = w1.mul(FloatVector.fromArray(F, x, xb + xq + 32 + p * L)).fma(s1, c1);
                        c2 = w2.mul(FloatVector.fromArray(F, x, xb + xq + 64 + p * L)).fma(s2, c2);
                        c3 = w3.mul(FloatVector.fromArray(F, x, xb + xq + 96 + p * L)).fma(s3, c3);
                    }
                }
            }
            a0.add(a1).add(a2.add(a3)).intoArray(t, ta);
            c0.add(c1).add(c2.add(c3)).intoArray(t, tb);
        }

        /** The exact dequantization in vectors: as {@link Q6KMatrix#dequantize}, {@code (d * scale) * (q - 32)}. */
        @Override
        public void widen(int row, float[] dst, int off) {
            MemorySegment seg = m.data;
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = row * rowBytes + (long) b * BLOCK_BYTES;
                float d = f16(seg, o + 208);
                for (int half = 0; half < 2; half++) {
                    long ql = o + 64L * half;
                    long qh = o + 128 + 32L * half;
                    int y = off + b * BLOCK + 128 * half;
                    for (int k = 0; k < 4; k++) {   // quarter k: ql column k & 1, nibble k >> 1, qh bits 2k
                        widenQuarter(seg, ql + 32 * (k & 1), qh, 4 * (k >> 1), 2 * k, d, o + 192 + 8 * half + 2 * k, dst,
                                y + 32 * k);
                    }
                }
            }
        }

        /**
         * One quarter (32 weights) of a half super-block to {@code dst[y ..)}, its two scale bytes at {@code sc}. One
         * quarter per call: a whole half in one method passed C2's inlining budget and allocated its vectors.
         */
        private static void widenQuarter(MemorySegment seg, long ql, long qh, int qShift, int hShift, float d, long sc,
                                         float[] dst, int y) {
            for (int p = 0; p < PARTS; p++) {
                // only Vector API calls in the loop, as in the dot loops: a helper of ours left out of line would box
                // its vectors
                IntVector q = (IntVector) ByteVector.fromMemorySegment(BYTES, seg, ql + p * L, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2I, Vectors.I, 0);
                IntVector h = (IntVector) ByteVector.fromMemorySegment(BYTES, seg, qh + p * L, ByteOrder.LITTLE_ENDIAN)
                        .convertShape(VectorOperators.B2I, Vectors.I, 0);
                ((FloatVector) q.lanewise(VectorOperators.ASHR, qShift).and(0xF)
                        .or(h.lanewise(VectorOperators.ASHR, hShift).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32)
                        .convert(VectorOperators.I2F, 0))
                        .mul(d * seg.get(ValueLayout.JAVA_BYTE, sc + (p * L) / 16)).intoArray(dst, y + p * L);
            }
        }
    }

    @Override
    void dequantize(long offset, float[] dst, int dOff, int n) {
        dequantize(data, offset, dst, dOff, n);
    }

    /** ggml's {@code dequantize_row_q6_K}. */
    static void dequantize(MemorySegment seg, long offset, float[] dst, int dOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float d = f16(seg, o + 208);
            long ql = o;
            long qh = o + 128;
            long sc = o + 192;
            int y = dOff + b * BLOCK;
            for (int half = 0; half < 2; half++) {
                for (int l = 0; l < 32; l++) {
                    int is = l / 16;
                    int h = Q4KMatrix.u8(seg, qh + l);
                    int a = Q4KMatrix.u8(seg, ql + l);
                    int c = Q4KMatrix.u8(seg, ql + l + 32);
                    int q1 = ((a & 0xF) | ((h & 3) << 4)) - 32;
                    int q2 = ((c & 0xF) | (((h >> 2) & 3) << 4)) - 32;
                    int q3 = ((a >> 4) | (((h >> 4) & 3) << 4)) - 32;
                    int q4 = ((c >> 4) | (((h >> 6) & 3) << 4)) - 32;
                    dst[y + l] = d * seg.get(ValueLayout.JAVA_BYTE, sc + is) * q1;
                    dst[y + l + 32] = d * seg.get(ValueLayout.JAVA_BYTE, sc + is + 2) * q2;
                    dst[y + l + 64] = d * seg.get(ValueLayout.JAVA_BYTE, sc + is + 4) * q3;
                    dst[y + l + 96] = d * seg.get(ValueLayout.JAVA_BYTE, sc + is + 6) * q4;
                }
                y += 128;
                ql += 64;
                qh += 32;
                sc += 8;
            }
        }
    }
}

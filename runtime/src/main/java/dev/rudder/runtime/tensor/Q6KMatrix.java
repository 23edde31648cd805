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
     * Fused dot in two passes over the row ({@link #low}: quarters 0 and 1 of each half super-block, {@link #high}:
     * quarters 2 and 3, which finds the row in cache), L positions at a time: each 6-bit quant rebuilt in byte lanes
     * from L-byte loads of ql and qh (a 16-lane byte op costs half a 16-lane int op on AVX-512), then widened and made
     * float, multiplied with the activations and by {@code d * scale} of its
     * 16-weight group; one accumulator per quarter, int byte offsets. Widening (matmul) by the same dequantization in
     * vectors, a quarter super-block per call (a whole half per method allocated its vectors once compiled;
     * KernelAllocationTest).
     */
    private static final class Vec extends BlockKernel {
        static final VectorSpecies<Float> F = Vectors.F;
        static final int L = Vectors.L;
        static final int PARTS = 32 / L;

        Vec(Q6KMatrix m) {
            super(m);
        }

        /** Weights {@code (low 4 bits of q >> qShift) | (2 bits of h >> hShift) << 4, minus 32} as floats. */
        private static FloatVector weights(IntVector q, int qShift, IntVector h, int hShift) {
            return (FloatVector) q.lanewise(VectorOperators.ASHR, qShift).and(0xF)
                    .or(h.lanewise(VectorOperators.ASHR, hShift).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32)
                    .convert(VectorOperators.I2F, 0);
        }

        /** L bytes at {@code o}. */
        private static ByteVector bytes(MemorySegment seg, long o) {
            return ByteVector.fromMemorySegment(BYTES, seg, o, ByteOrder.LITTLE_ENDIAN);
        }

        /**
         * Every byte of {@code v} shifted by {@code n} within its 16-bit pair: the bits that cross into the neighbour
         * byte are the ones the callers mask off, and a 16-bit shift is one instruction where x86 has no byte shift.
         */
        private static ByteVector shift(ByteVector v, VectorOperators.Binary op, int n) {
            return v.reinterpretAsShorts().lanewise(op, n).reinterpretAsBytes();
        }

        /** The 6-bit quants {@code (low 4 bits of q) | (bits 4-5 of h)}, minus 32, as floats (sign-extended, exact). */
        private static FloatVector floats(ByteVector q, ByteVector h) {
            ByteVector w = q.and((byte) 0xF).or(h.and((byte) 0x30)).sub((byte) 32);
            return (FloatVector) ((IntVector) w.convertShape(VectorOperators.B2I, Vectors.I, 0)).convert(VectorOperators.I2F, 0);
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
            low(seg, base, m.cols / BLOCK, x, xOff, t, tOff, s);
            high(seg, base, m.cols / BLOCK, x, xOff, t, tOff, s);
        }

        /**
         * The super-block at {@code o}'s 16 scales times its d to {@code s}, as {@link Q6KMatrix#dequantize} rounds
         * them ({@code d * sc}, one float multiply): vector work once per 256 weights instead of a byte load, a
         * conversion and a multiply per 16.
         */
        private static void scales(MemorySegment seg, int o, float d, float[] s) {
            for (int k = 0; k < 16; k += L) {
                ((FloatVector) ints(seg, o + 192 + k).convert(VectorOperators.I2F, 0)).mul(d).intoArray(s, k);
            }
        }

        /**
         * Quarters 0 and 1 of every half super-block of the row at byte {@code base} (the low nibbles of ql's two
         * columns, qh bits 0-1 and 2-3): their accumulator lanes to {@code t[tOff ..)}. Two quarters per method, with
         * {@link #high} beside it: all four in one loop passed C2's inlining node budget on some compilations, and the
         * vectors then got boxed (3-5x slower).
         */
        private static void low(MemorySegment seg, int base, int blocks, float[] x, int xOff, float[] t, int tOff,
                                float[] s) {
            FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                int o = base + b * BLOCK_BYTES;
                scales(seg, o, f16(seg, o + 208), s);
                for (int half = 0; half < 2; half++) {
                    int ql = o + 64 * half, qh = o + 128 + 32 * half;
                    int xq = xOff + b * BLOCK + 128 * half;
                    for (int p = 0; p < PARTS; p++) {
                        ByteVector h = bytes(seg, qh + p * L);
                        int g = 8 * half + (p * L) / 16;   // the scale of these positions' 16-weight group in quarter 0
                        FloatVector w0 = floats(bytes(seg, ql + p * L), shift(h, VectorOperators.LSHL, 4));   // h bits 0-1
                        FloatVector w1 = floats(bytes(seg, ql + 32 + p * L), shift(h, VectorOperators.LSHL, 2));   // 2-3
                        acc0 = w0.mul(FloatVector.fromArray(F, x, xq + p * L))
                                .fma(FloatVector.broadcast(F, s[g]), acc0);
                        acc1 = w1.mul(FloatVector.fromArray(F, x, xq + 32 + p * L))
                                .fma(FloatVector.broadcast(F, s[g + 2]), acc1);
                    }
                }
            }
            acc0.add(acc1).intoArray(t, tOff);
        }

        /** Quarters 2 and 3 (the high nibbles, qh bits 4-5 and 6-7), added to the lanes {@link #low} left in {@code t}. */
        private static void high(MemorySegment seg, int base, int blocks, float[] x, int xOff, float[] t, int tOff,
                                 float[] s) {
            FloatVector acc2 = FloatVector.zero(F), acc3 = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                int o = base + b * BLOCK_BYTES;
                scales(seg, o, f16(seg, o + 208), s);
                for (int half = 0; half < 2; half++) {
                    int ql = o + 64 * half, qh = o + 128 + 32 * half;
                    int xq = xOff + b * BLOCK + 128 * half;
                    for (int p = 0; p < PARTS; p++) {
                        ByteVector h = bytes(seg, qh + p * L);
                        int g = 8 * half + 4 + (p * L) / 16;
                        FloatVector w2 = floats(shift(bytes(seg, ql + p * L), VectorOperators.LSHR, 4), h);   // h bits 4-5
                        FloatVector w3 = floats(shift(bytes(seg, ql + 32 + p * L), VectorOperators.LSHR, 4),
                                shift(h, VectorOperators.LSHR, 2));   // 6-7
                        acc2 = w2.mul(FloatVector.fromArray(F, x, xq + 64 + p * L))
                                .fma(FloatVector.broadcast(F, s[g]), acc2);
                        acc3 = w3.mul(FloatVector.fromArray(F, x, xq + 96 + p * L))
                                .fma(FloatVector.broadcast(F, s[g + 2]), acc3);
                    }
                }
            }
            acc2.add(acc3).add(FloatVector.fromArray(F, t, tOff)).intoArray(t, tOff);
        }

        @Override
        void lanes2x2(int rA, int rB, float[] x, int xa, int xb, float[] t, int ta, int tb) {
            int blocks = m.cols / BLOCK;
            float[] s = Scratch.get().scales();
            for (int k = 0; k < 2; k++) {
                int base = (int) ((k == 0 ? rA : rB) * rowBytes);
                lowTwoInputs(m.data, base, blocks, x, xa, xb, t, ta + k * L, tb + k * L, s);
                highTwoInputs(m.data, base, blocks, x, xa, xb, t, ta + k * L, tb + k * L, s);
            }
        }

        /**
         * {@link #low} of a row with two inputs, at {@code xa} (to {@code t[ta ..)}) and {@code xb} (to
         * {@code t[tb ..)}): each weight rebuilt once for both (batched decode), per input {@link #low}'s operations
         * in its order. Vector API calls only in the loop.
         */
        private static void lowTwoInputs(MemorySegment seg, int base, int blocks, float[] x, int xa, int xb, float[] t,
                                         int ta, int tb, float[] s) {
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F), c0 = FloatVector.zero(F), c1 = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                int o = base + b * BLOCK_BYTES;
                scales(seg, o, f16(seg, o + 208), s);
                for (int half = 0; half < 2; half++) {
                    int ql = o + 64 * half, qh = o + 128 + 32 * half;
                    int xq = b * BLOCK + 128 * half;
                    for (int p = 0; p < PARTS; p++) {
                        ByteVector h = bytes(seg, qh + p * L);
                        int g = 8 * half + (p * L) / 16;
                        FloatVector w0 = floats(bytes(seg, ql + p * L), shift(h, VectorOperators.LSHL, 4));
                        FloatVector w1 = floats(bytes(seg, ql + 32 + p * L), shift(h, VectorOperators.LSHL, 2));
                        FloatVector s0 = FloatVector.broadcast(F, s[g]);
                        FloatVector s1 = FloatVector.broadcast(F, s[g + 2]);
                        a0 = w0.mul(FloatVector.fromArray(F, x, xa + xq + p * L)).fma(s0, a0);
                        a1 = w1.mul(FloatVector.fromArray(F, x, xa + xq + 32 + p * L)).fma(s1, a1);
                        c0 = w0.mul(FloatVector.fromArray(F, x, xb + xq + p * L)).fma(s0, c0);
                        c1 = w1.mul(FloatVector.fromArray(F, x, xb + xq + 32 + p * L)).fma(s1, c1);
                    }
                }
            }
            a0.add(a1).intoArray(t, ta);
            c0.add(c1).intoArray(t, tb);
        }

        /** {@link #high} of a row with two inputs, as {@link #lowTwoInputs}. */
        private static void highTwoInputs(MemorySegment seg, int base, int blocks, float[] x, int xa, int xb, float[] t,
                                          int ta, int tb, float[] s) {
            FloatVector a2 = FloatVector.zero(F), a3 = FloatVector.zero(F), c2 = FloatVector.zero(F), c3 = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                int o = base + b * BLOCK_BYTES;
                scales(seg, o, f16(seg, o + 208), s);
                for (int half = 0; half < 2; half++) {
                    int ql = o + 64 * half, qh = o + 128 + 32 * half;
                    int xq = b * BLOCK + 128 * half;
                    for (int p = 0; p < PARTS; p++) {
                        ByteVector h = bytes(seg, qh + p * L);
                        int g = 8 * half + 4 + (p * L) / 16;
                        FloatVector w2 = floats(shift(bytes(seg, ql + p * L), VectorOperators.LSHR, 4), h);
                        FloatVector w3 = floats(shift(bytes(seg, ql + 32 + p * L), VectorOperators.LSHR, 4),
                                shift(h, VectorOperators.LSHR, 2));
                        FloatVector s2 = FloatVector.broadcast(F, s[g]);
                        FloatVector s3 = FloatVector.broadcast(F, s[g + 2]);
                        a2 = w2.mul(FloatVector.fromArray(F, x, xa + xq + 64 + p * L)).fma(s2, a2);
                        a3 = w3.mul(FloatVector.fromArray(F, x, xa + xq + 96 + p * L)).fma(s3, a3);
                        c2 = w2.mul(FloatVector.fromArray(F, x, xb + xq + 64 + p * L)).fma(s2, c2);
                        c3 = w3.mul(FloatVector.fromArray(F, x, xb + xq + 96 + p * L)).fma(s3, c3);
                    }
                }
            }
            a2.add(a3).add(FloatVector.fromArray(F, t, ta)).intoArray(t, ta);
            c2.add(c3).add(FloatVector.fromArray(F, t, tb)).intoArray(t, tb);
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
                weights(ints(seg, ql + p * L), qShift, ints(seg, qh + p * L), hShift).mul(d * seg.get(ValueLayout.JAVA_BYTE, sc + (p * L) / 16))
                        .intoArray(dst, y + p * L);
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

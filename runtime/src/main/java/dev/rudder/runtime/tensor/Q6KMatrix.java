package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;

import dev.rudder.runtime.kernel.Vectors;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

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
     * Fused dot: per half super-block, L positions at a time, the four 6-bit quants of each position rebuilt in int
     * lanes from L-byte loads of ql and qh, made float and multiplied by {@code d * scale} of their 16-weight group
     * (the 16 scales converted in vectors once per super-block); two accumulators. Widening (matmul) by the same
     * dequantization in vectors, a quarter super-block per call (a whole half per method allocated its vectors once
     * compiled; KernelAllocationTest).
     */
    private static final class Vec extends BlockKernel {
        static final VectorSpecies<Float> F = Vectors.F;
        static final int L = Vectors.L;
        static final int PARTS = 32 / L;
        /** Scales are 16 signed bytes: L of them per part. */
        static final int SCALE_PARTS = 16 / L;

        Vec(Q6KMatrix m) {
            super(m);
        }

        /** {@code dst[off + i] = d * scales[i]} for the 16 scales of the super-block at {@code o}. */
        private static void scales(MemorySegment seg, long o, float[] dst, int off) {
            float d = f16(seg, o + 208);
            for (int p = 0; p < SCALE_PARTS; p++) {
                ((FloatVector) ints(seg, o + 192 + (long) p * L).convert(VectorOperators.I2F, 0)).mul(d)
                        .intoArray(dst, off + p * L);
            }
        }

        /** Weights {@code (low 4 bits of q >> qShift) | (2 bits of h >> hShift) << 4, minus 32} as floats. */
        private static FloatVector weights(IntVector q, int qShift, IntVector h, int hShift) {
            return (FloatVector) q.lanewise(VectorOperators.ASHR, qShift).and(0xF)
                    .or(h.lanewise(VectorOperators.ASHR, hShift).and(3).lanewise(VectorOperators.LSHL, 4)).sub(32)
                    .convert(VectorOperators.I2F, 0);
        }

        @Override
        void lanes(int row, float[] x, int xOff, float[] t, int tOff) {
            MemorySegment seg = m.data;
            int sc = t.length - EXTRA;           // t[sc ..]: the 16 scales times d, then the two accumulators [2, L]
            int acc = sc + 16;
            java.util.Arrays.fill(t, acc, acc + 2 * L, 0f);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = row * rowBytes + (long) b * BLOCK_BYTES;
                scales(seg, o, t, sc);
                for (int half = 0; half < 2; half++) {
                    long ql = o + 64L * half;
                    long qh = o + 128 + 32L * half;
                    int x0 = xOff + b * BLOCK + 128 * half;
                    quarters(seg, ql, qh, 0, sc + 8 * half, x, x0, t, acc);
                    quarters(seg, ql, qh, 4, sc + 8 * half, x, x0, t, acc);
                }
            }
            FloatVector.fromArray(F, t, acc).add(FloatVector.fromArray(F, t, acc + L)).intoArray(t, tOff);
        }

        /**
         * Two quarters of a half super-block into the accumulators {@code t[acc ..)}: the low ({@code shift} 0: quarters
         * 0 and 1) or high ({@code shift} 4: quarters 2 and 3) nibbles of ql, with their qh bits; scales from
         * {@code t[s ..)}. A method of its own, with the accumulators in memory: a whole half in one loop body passed
         * C2's inlining node budget and the vectors got boxed (1.1-1.4 G weights/s).
         */
        private static void quarters(MemorySegment seg, long ql, long qh, int shift, int s, float[] x, int x0, float[] t,
                                     int acc) {
            FloatVector acc0 = FloatVector.fromArray(F, t, acc);
            FloatVector acc1 = FloatVector.fromArray(F, t, acc + L);
            int xq = x0 + 16 * shift;           // quarter 0 or 2 starts at x0 or x0 + 64
            int g0 = s + shift;                 // its scale group: s + 0 or s + 4
            for (int p = 0; p < PARTS; p++) {
                IntVector h = ints(seg, qh + p * L);
                int g = g0 + (p * L) / 16;      // the scale of these positions' 16-weight group
                int xp = xq + p * L;
                acc0 = weights(ints(seg, ql + p * L), shift, h, shift).mul(FloatVector.fromArray(F, x, xp))
                        .fma(FloatVector.broadcast(F, t[g]), acc0);
                acc1 = weights(ints(seg, ql + 32 + p * L), shift, h, shift + 2).mul(FloatVector.fromArray(F, x, xp + 32))
                        .fma(FloatVector.broadcast(F, t[g + 2]), acc1);
            }
            acc0.intoArray(t, acc);
            acc1.intoArray(t, acc + L);
        }

        /** The exact dequantization in vectors: as {@link Q6KMatrix#dequantize}, {@code (d * scale) * (q - 32)}. */
        @Override
        public void widen(int row, float[] dst, int off) {
            MemorySegment seg = m.data;
            float[] sc = Scratch.get().t(EXTRA);   // the 16 scales times d
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = row * rowBytes + (long) b * BLOCK_BYTES;
                scales(seg, o, sc, 0);
                for (int half = 0; half < 2; half++) {
                    long ql = o + 64L * half;
                    long qh = o + 128 + 32L * half;
                    int y = off + b * BLOCK + 128 * half;
                    for (int k = 0; k < 4; k++) {   // quarter k: ql column k & 1, nibble k >> 1, qh bits 2k
                        widenQuarter(seg, ql + 32 * (k & 1), qh, 4 * (k >> 1), 2 * k, sc, 8 * half + 2 * k, dst, y + 32 * k);
                    }
                }
            }
        }

        /**
         * One quarter (32 weights) of a half super-block to {@code dst[y ..)}, scales from {@code sc[g ..)}. One
         * quarter per call: a whole half in one method passed C2's inlining budget and allocated its vectors.
         */
        private static void widenQuarter(MemorySegment seg, long ql, long qh, int qShift, int hShift, float[] sc, int g,
                                         float[] dst, int y) {
            for (int p = 0; p < PARTS; p++) {
                weights(ints(seg, ql + p * L), qShift, ints(seg, qh + p * L), hShift).mul(sc[g + (p * L) / 16])
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

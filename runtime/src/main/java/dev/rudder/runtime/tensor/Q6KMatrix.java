package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;

import dev.rudder.runtime.kernel.Vectors;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
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
     * Fused dot: the four 6-bit quants of each position rebuilt in byte lanes from 32-byte loads of ql and qh, widened
     * to float and multiplied by {@code d * scale} of their 16-weight group; widening (matmul) by the same
     * dequantization in vectors.
     */
    private static final class Vec extends BlockKernel {
        static final VectorSpecies<Float> F = Vectors.F;
        static final int L = Vectors.L;
        static final VectorSpecies<Byte> B = ByteVector.SPECIES_256;
        static final int PARTS = 32 / L;

        Vec(Q6KMatrix m) {
            super(m);
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
                    long sc = o + 192 + 8L * half;
                    int y = off + b * BLOCK + 128 * half;
                    ByteVector a = ByteVector.fromMemorySegment(B, seg, ql, ByteOrder.LITTLE_ENDIAN);
                    ByteVector c = ByteVector.fromMemorySegment(B, seg, ql + 32, ByteOrder.LITTLE_ENDIAN);
                    ByteVector h = ByteVector.fromMemorySegment(B, seg, qh, ByteOrder.LITTLE_ENDIAN);
                    for (int k = 0; k < 4; k++) {
                        ByteVector low = (k & 1) == 0 ? a : c;
                        ByteVector nib = k < 2 ? low.and((byte) 0xF) : low.lanewise(VectorOperators.LSHR, 4);
                        ByteVector q = nib.or(h.lanewise(VectorOperators.LSHR, 2 * k).and((byte) 3)
                                .lanewise(VectorOperators.LSHL, 4)).sub((byte) 32);
                        for (int p = 0; p < PARTS; p++) {
                            float scale = d * seg.get(ValueLayout.JAVA_BYTE, sc + 2 * k + (p * L) / 16);
                            ((FloatVector) q.convertShape(VectorOperators.B2F, F, p)).mul(scale)
                                    .intoArray(dst, y + 32 * k + p * L);
                        }
                    }
                }
            }
        }

        @Override
        void lanes(int row, float[] x, int xOff, float[] t, int tOff) {
            MemorySegment seg = m.data;
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = row * rowBytes + (long) b * BLOCK_BYTES;
                float d = f16(seg, o + 208);
                for (int half = 0; half < 2; half++) {
                    long ql = o + 64L * half;
                    long qh = o + 128 + 32L * half;
                    long sc = o + 192 + 8L * half;
                    int x0 = xOff + b * BLOCK + 128 * half;
                    ByteVector a = ByteVector.fromMemorySegment(B, seg, ql, ByteOrder.LITTLE_ENDIAN);
                    ByteVector c = ByteVector.fromMemorySegment(B, seg, ql + 32, ByteOrder.LITTLE_ENDIAN);
                    ByteVector h = ByteVector.fromMemorySegment(B, seg, qh, ByteOrder.LITTLE_ENDIAN);
                    acc = quarter(a.and((byte) 0xF).or(h.and((byte) 3).lanewise(VectorOperators.LSHL, 4)),
                            seg, sc, d, x, x0, acc);
                    acc = quarter(c.and((byte) 0xF).or(h.lanewise(VectorOperators.LSHR, 2).and((byte) 3)
                            .lanewise(VectorOperators.LSHL, 4)), seg, sc + 2, d, x, x0 + 32, acc);
                    acc = quarter(a.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF).or(h.lanewise(VectorOperators.LSHR, 4)
                            .and((byte) 3).lanewise(VectorOperators.LSHL, 4)), seg, sc + 4, d, x, x0 + 64, acc);
                    acc = quarter(c.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF).or(h.lanewise(VectorOperators.LSHR, 6)
                            .and((byte) 3).lanewise(VectorOperators.LSHL, 4)), seg, sc + 6, d, x, x0 + 96, acc);
                }
            }
            acc.intoArray(t, tOff);
        }

        /** 32 weights {@code q - 32} (two groups of 16 with scales at {@code sc}, {@code sc+1}) against x[x0 ..). */
        private static FloatVector quarter(ByteVector q6, MemorySegment seg, long sc, float d, float[] x, int x0,
                                           FloatVector acc) {
            ByteVector q = q6.sub((byte) 32);
            for (int p = 0; p < PARTS; p++) {
                float scale = d * seg.get(ValueLayout.JAVA_BYTE, sc + (p * L) / 16);
                FloatVector w = (FloatVector) q.convertShape(VectorOperators.B2F, F, p);
                acc = w.mul(FloatVector.fromArray(F, x, x0 + p * L)).fma(FloatVector.broadcast(F, scale), acc);
            }
            return acc;
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

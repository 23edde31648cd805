package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;

import java.lang.foreign.MemorySegment;

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
        return new DequantizingKernel(this);
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

package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

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
        return new DequantizingKernel(this);
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

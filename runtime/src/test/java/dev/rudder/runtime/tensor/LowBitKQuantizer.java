package dev.rudder.runtime.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Test side: Q2_K and Q3_K super-blocks packed in ggml's layout (as {@code quantize_row_q2_K_ref} /
 * {@code quantize_row_q3_K_ref} pack them) from integers a plain round-to-nearest quantizer chose, not ggml's scale
 * search: the layout is what is under test. Each call also returns the values the blocks stand for, computed from the
 * integers and the f16-rounded scales as ggml's {@code dequantize_row_*} computes them, not by reading the bytes back.
 */
public final class LowBitKQuantizer {
    static final int BLOCK = 256;

    private LowBitKQuantizer() {
    }

    /** Bytes per super-block. */
    public static int blockBytes(String type) {
        return switch (type) {
            case "Q2_K" -> 84;
            case "Q3_K" -> 110;
            default -> throw new IllegalArgumentException(type);
        };
    }

    /** Quantizes {@code x} (a multiple of 256 weights) to {@code type}. */
    public static GgmlReferenceQuantizer.Quantized quantize(String type, float[] x) {
        int blocks = x.length / BLOCK;
        ByteBuffer out = ByteBuffer.allocate(blocks * blockBytes(type)).order(ByteOrder.LITTLE_ENDIAN);
        float[] values = new float[x.length];
        int[] q = new int[BLOCK];
        int[] sc = new int[16];
        int[] mn = new int[16];
        for (int b = 0; b < blocks; b++) {
            int o = BLOCK * b;
            if (type.equals("Q2_K")) {
                float[] dm = q2k(x, o, sc, mn);
                short d16 = Float.floatToFloat16(dm[0]), m16 = Float.floatToFloat16(dm[1]);
                float d = Float.float16ToFloat(d16), dmin = Float.float16ToFloat(m16);
                for (int i = 0; i < BLOCK; i++) {
                    float dl = d * sc[i / 16];
                    int l = dl == 0 ? 0 : Math.clamp(Math.round((x[o + i] + dmin * mn[i / 16]) / dl), 0, 3);
                    q[i] = l;
                    values[o + i] = dl * l - dmin * mn[i / 16];
                }
                out.put(packQ2K(q, sc, mn, d16, m16));
            } else {
                short d16 = Float.floatToFloat16(q3k(x, o, sc));
                float d = Float.float16ToFloat(d16);
                for (int i = 0; i < BLOCK; i++) {
                    float dl = d * sc[i / 16];
                    int l = dl == 0 ? 0 : Math.clamp(Math.round(x[o + i] / dl), -4, 3);
                    q[i] = l;
                    values[o + i] = dl * l;
                }
                out.put(packQ3K(q, sc, d16));
            }
        }
        return new GgmlReferenceQuantizer.Quantized(out.array(), values);
    }

    /** Per group of 16: 4-bit scale and min of {@code (max - min(0, min)) / 3} and {@code -min(0, min)}; returns d, dmin. */
    private static float[] q2k(float[] x, int o, int[] sc, int[] mn) {
        float[] s = new float[16];
        float[] m = new float[16];
        float maxS = 0, maxM = 0;
        for (int g = 0; g < 16; g++) {
            float lo = 0, hi = Float.NEGATIVE_INFINITY;
            for (int l = 0; l < 16; l++) {
                lo = Math.min(lo, x[o + 16 * g + l]);
                hi = Math.max(hi, x[o + 16 * g + l]);
            }
            s[g] = (hi - lo) / 3;
            m[g] = -lo;
            maxS = Math.max(maxS, s[g]);
            maxM = Math.max(maxM, m[g]);
        }
        float d = maxS / 15, dmin = maxM / 15;
        for (int g = 0; g < 16; g++) {
            sc[g] = d == 0 ? 0 : Math.clamp(Math.round(s[g] / d), 0, 15);
            mn[g] = dmin == 0 ? 0 : Math.clamp(Math.round(m[g] / dmin), 0, 15);
        }
        return new float[] {d, dmin};
    }

    /**
     * Per group of 16: the scale that maps its largest-magnitude weight to -4 (as ggml's sign convention), as a 6-bit
     * signed multiple (-32..31) of the super-block scale, which maps the largest-magnitude group scale to -32; returns d.
     */
    private static float q3k(float[] x, int o, int[] sc) {
        float[] s = new float[16];
        float maxScale = 0;
        for (int g = 0; g < 16; g++) {
            float max = 0;
            for (int l = 0; l < 16; l++) {
                if (Math.abs(x[o + 16 * g + l]) > Math.abs(max)) {
                    max = x[o + 16 * g + l];
                }
            }
            s[g] = -max / 4;
            if (Math.abs(s[g]) > Math.abs(maxScale)) {
                maxScale = s[g];
            }
        }
        float d = -maxScale / 32;
        for (int g = 0; g < 16; g++) {
            sc[g] = d == 0 ? 0 : Math.clamp(Math.round(s[g] / d), -32, 31);
        }
        return d;
    }

    /** {@code qs}: weight {@code 128*h + 32*j + l} in bits {@code 2*j} of byte {@code 32*h + l} ({@code q} 0..3). */
    private static byte[] packQs(int[] q) {
        byte[] qs = new byte[64];
        for (int h = 0; h < 2; h++) {
            for (int l = 0; l < 32; l++) {
                int i = 128 * h + l;
                qs[32 * h + l] = (byte) (q[i] | q[i + 32] << 2 | q[i + 64] << 4 | q[i + 96] << 6);
            }
        }
        return qs;
    }

    /** One Q2_K super-block from its 256 2-bit quants, 16 4-bit scales and mins, and f16 d and dmin. */
    public static byte[] packQ2K(int[] q, int[] sc, int[] mn, short d16, short m16) {
        ByteBuffer blk = ByteBuffer.allocate(84).order(ByteOrder.LITTLE_ENDIAN);
        for (int g = 0; g < 16; g++) {
            blk.put((byte) (sc[g] | mn[g] << 4));
        }
        blk.put(packQs(q));
        blk.putShort(d16);
        blk.putShort(m16);
        return blk.array();
    }

    /**
     * One Q3_K super-block from its 256 quants (-4..3), 16 signed 6-bit scales (-32..31) and f16 d: the quant plus 4
     * has its bit 2 in {@code hmask} (weight i: bit {@code i / 32} of byte {@code i % 32}) and its low 2 bits in
     * {@code qs}; scale + 32 has its low 4 bits in the low (scales 0-7) or high (8-15) nibbles of bytes 0-7 and its
     * high 2 bits at bit {@code 2*(g/4)} of byte {@code 8 + g%4}.
     */
    public static byte[] packQ3K(int[] q, int[] sc, short d16) {
        ByteBuffer blk = ByteBuffer.allocate(110).order(ByteOrder.LITTLE_ENDIAN);
        byte[] hmask = new byte[32];
        int[] low = new int[256];
        for (int i = 0; i < 256; i++) {
            int l = q[i] + 4;
            if (l > 3) {
                hmask[i % 32] |= (byte) (1 << (i / 32));
            }
            low[i] = l & 3;
        }
        byte[] scales = new byte[12];
        for (int g = 0; g < 16; g++) {
            int l = sc[g] + 32;
            scales[g % 8] |= (byte) ((l & 0xF) << (g < 8 ? 0 : 4));
            scales[8 + g % 4] |= (byte) ((l >> 4) << 2 * (g / 4));
        }
        blk.put(hmask);
        blk.put(packQs(low));
        blk.put(scales);
        blk.putShort(d16);
        return blk.array();
    }
}

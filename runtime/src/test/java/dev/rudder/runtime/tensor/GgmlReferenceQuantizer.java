package dev.rudder.runtime.tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Test side: ggml's reference quantizers for the blocks of 32 weights Rudder reads but does not write, transcribed from
 * ggml-quants.c ({@code quantize_row_q4_1_ref}, {@code quantize_row_q5_0_ref}, {@code quantize_row_q5_1_ref}, and
 * {@code quantize_row_iq4_nl_ref}, i.e. {@code quantize_row_iq4_nl_impl} with {@code ntry = -1}: no scale search).
 * Besides the packed blocks each call returns the values the blocks stand for, computed from the integers and the
 * f16-rounded scales the quantizer chose, not by reading the bytes back: a reference for Rudder's unpacking.
 */
public final class GgmlReferenceQuantizer {
    /** ggml's {@code kvalues_iq4nl} (ggml-common.h). */
    static final int[] IQ4NL = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

    /** Packed blocks and the float32 values they stand for, as ggml's {@code dequantize_row_*} computes them. */
    public record Quantized(byte[] blocks, float[] values) {
    }

    private GgmlReferenceQuantizer() {
    }

    /** Bytes per block of 32 weights. */
    public static int blockBytes(String type) {
        return switch (type) {
            case "Q4_1" -> 20;
            case "Q5_0" -> 22;
            case "Q5_1" -> 24;
            case "IQ4_NL" -> 18;
            default -> throw new IllegalArgumentException(type);
        };
    }

    /** Quantizes {@code x} (a multiple of 32 weights) to {@code type}. */
    public static Quantized quantize(String type, float[] x) {
        int blocks = x.length / 32;
        ByteBuffer out = ByteBuffer.allocate(blocks * blockBytes(type)).order(ByteOrder.LITTLE_ENDIAN);
        float[] values = new float[x.length];
        int[] q = new int[32];
        for (int b = 0; b < blocks; b++) {
            int o = 32 * b;
            float[] dm = switch (type) {
                case "Q4_1" -> minMax(x, o, q, 15, false);
                case "Q5_1" -> minMax(x, o, q, 31, true);
                case "Q5_0" -> q5_0(x, o, q);
                default -> iq4nl(x, o, q);
            };
            short d16 = Float.floatToFloat16(dm[0]);
            short m16 = Float.floatToFloat16(dm[1]);
            float d = Float.float16ToFloat(d16);
            float m = Float.float16ToFloat(m16);
            out.put(pack(type, q, d16, m16));
            for (int j = 0; j < 32; j++) {
                values[o + j] = switch (type) {
                    case "Q4_1", "Q5_1" -> q[j] * d + m;
                    case "Q5_0" -> (q[j] - 16) * d;
                    default -> d * IQ4NL[q[j]];
                };
            }
        }
        return new Quantized(out.array(), values);
    }

    /**
     * One block in ggml's layout from its 32 integers ({@code q[j]}: 4-bit value, 5-bit value or table index of weight
     * j) and f16 scale/min: {@code qs[j]} holds weight j in the low nibble and weight j + 16 in the high one; for the
     * 5-bit types bit 4 of weight j is bit j of the little-endian word {@code qh}.
     */
    public static byte[] pack(String type, int[] q, short d16, short m16) {
        ByteBuffer blk = ByteBuffer.allocate(blockBytes(type)).order(ByteOrder.LITTLE_ENDIAN);
        blk.putShort(d16);
        if (type.equals("Q4_1") || type.equals("Q5_1")) {
            blk.putShort(m16);
        }
        if (type.startsWith("Q5")) {
            int qh = 0;
            for (int j = 0; j < 32; j++) {
                qh |= ((q[j] >> 4) & 1) << j;
            }
            blk.putInt(qh);
        }
        for (int j = 0; j < 16; j++) {
            blk.put((byte) ((q[j] & 0xF) | ((q[j + 16] & 0xF) << 4)));
        }
        return blk.array();
    }

    /** quantize_row_q4_1_ref / quantize_row_q5_1_ref: {d, min}; {@code q} gets 0..nmax. */
    private static float[] minMax(float[] x, int o, int[] q, int nmax, boolean fiveBits) {
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (int j = 0; j < 32; j++) {
            min = Math.min(min, x[o + j]);
            max = Math.max(max, x[o + j]);
        }
        float d = (max - min) / nmax;
        float id = d != 0 ? 1.0f / d : 0.0f;
        for (int j = 0; j < 32; j++) {
            float v = (x[o + j] - min) * id;
            // q4_1: MIN(15, (int8_t)(v + 0.5f)); q5_1: (uint8_t)(v + 0.5f), both truncating toward zero
            q[j] = fiveBits ? (int) (v + 0.5f) & 0xFF : Math.min(15, (byte) (int) (v + 0.5f));
        }
        return new float[] {d, min};
    }

    /** quantize_row_q5_0_ref: the signed largest magnitude maps to -16; {@code q} gets 0..31. */
    private static float[] q5_0(float[] x, int o, int[] q) {
        float amax = 0;
        float max = 0;
        for (int j = 0; j < 32; j++) {
            if (amax < Math.abs(x[o + j])) {
                amax = Math.abs(x[o + j]);
                max = x[o + j];
            }
        }
        float d = max / -16;
        float id = d != 0 ? 1.0f / d : 0.0f;
        for (int j = 0; j < 32; j++) {
            q[j] = Math.min(31, (byte) (int) (x[o + j] * id + 16.5f));
        }
        return new float[] {d, 0};
    }

    /** quantize_row_iq4_nl_impl, one block, no importance weights, ntry = -1; {@code q} gets table indexes. */
    private static float[] iq4nl(float[] x, int o, int[] q) {
        float amax = 0;
        float max = 0;
        for (int j = 0; j < 32; j++) {
            if (Math.abs(x[o + j]) > amax) {
                amax = Math.abs(x[o + j]);
                max = x[o + j];
            }
        }
        if (amax < 1e-15f) {
            java.util.Arrays.fill(q, 0);
            return new float[] {0, 0};
        }
        float d = max / IQ4NL[0];
        float id = 1 / d;
        float sumqx = 0;
        float sumq2 = 0;
        for (int j = 0; j < 32; j++) {
            float xj = x[o + j];
            int l = bestIndex(id * xj);
            q[j] = l;
            float w = xj * xj;
            sumqx += w * IQ4NL[l] * xj;
            sumq2 += w * IQ4NL[l] * IQ4NL[l];
        }
        return new float[] {sumqx / sumq2, 0};
    }

    /** ggml's {@code best_index_int8} over the IQ4_NL table: the nearest entry, ties to the upper one. */
    static int bestIndex(float v) {
        int idx = 0;
        for (int step = 8; step > 0; step >>= 1) {
            int j = idx + step;
            idx = v + v >= IQ4NL[j - 1] + IQ4NL[j] ? j : idx;
        }
        return idx;
    }
}

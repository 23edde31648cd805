package dev.rudder.runtime.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Quantizes float rows to ggml's Q8_0 and Q4_0 blocks bit for bit as ggml's reference quantizers
 * ({@code quantize_row_q8_0_ref}, {@code quantize_row_q4_0_ref}) do, which is what {@code llama-quantize} writes for
 * these types: scale from the largest magnitude, f16 scale rounded to nearest even, weights rounded half away from
 * zero (Q8_0) or truncated after adding 8.5 (Q4_0).
 */
public final class BlockQuantizer {
    private static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private BlockQuantizer() {
    }

    /** Bytes of {@code n} weights (a multiple of 32) in {@code type} ("Q8_0" or "Q4_0"). */
    public static long bytes(String type, long n) {
        return n / 32 * switch (type) {
            case "Q8_0" -> Q8_0Matrix.BLOCK_BYTES;
            case "Q4_0" -> Q4_0Matrix.BLOCK_BYTES;
            default -> throw new IllegalArgumentException("cannot quantize to " + type + " (supported: Q8_0, Q4_0)");
        };
    }

    /** Quantizes {@code x[xOff .. xOff+n)} (n a multiple of 32) into {@code out} at byte {@code offset}. */
    public static void quantize(String type, float[] x, int xOff, int n, MemorySegment out, long offset) {
        if (n % 32 != 0) {
            throw new IllegalArgumentException(n + " weights are not whole blocks of 32");
        }
        switch (type) {
            case "Q8_0" -> q8_0(x, xOff, n, out, offset);
            case "Q4_0" -> q4_0(x, xOff, n, out, offset);
            default -> throw new IllegalArgumentException("cannot quantize to " + type + " (supported: Q8_0, Q4_0)");
        }
    }

    private static void q8_0(float[] x, int xOff, int n, MemorySegment out, long offset) {
        for (int b = 0; b < n / 32; b++) {
            int base = xOff + b * 32;
            long o = offset + (long) b * Q8_0Matrix.BLOCK_BYTES;
            float amax = 0f;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[base + j]));
            }
            float d = amax / 127f;
            float id = d != 0f ? 1.0f / d : 0f;
            out.set(SHORT_LE, o, Float.floatToFloat16(d));
            for (int j = 0; j < 32; j++) {
                out.set(ValueLayout.JAVA_BYTE, o + 2 + j, (byte) roundHalfAway(x[base + j] * id));
            }
        }
    }

    private static void q4_0(float[] x, int xOff, int n, MemorySegment out, long offset) {
        for (int b = 0; b < n / 32; b++) {
            int base = xOff + b * 32;
            long o = offset + (long) b * Q4_0Matrix.BLOCK_BYTES;
            float amax = 0f;
            float max = 0f;
            for (int j = 0; j < 32; j++) {
                float v = x[base + j];
                if (amax < Math.abs(v)) {
                    amax = Math.abs(v);
                    max = v;
                }
            }
            float d = max / -8f;
            float id = d != 0f ? 1.0f / d : 0f;
            out.set(SHORT_LE, o, Float.floatToFloat16(d));
            for (int j = 0; j < 16; j++) {
                int x0 = Math.min(15, (byte) (int) (x[base + j] * id + 8.5f));
                int x1 = Math.min(15, (byte) (int) (x[base + 16 + j] * id + 8.5f));
                out.set(ValueLayout.JAVA_BYTE, o + 2 + j, (byte) (x0 | (x1 << 4)));
            }
        }
    }

    /** C's {@code roundf}: halfway cases away from zero. */
    static int roundHalfAway(float v) {
        return (int) Math.copySign(Math.floor(Math.abs((double) v) + 0.5), v);
    }
}

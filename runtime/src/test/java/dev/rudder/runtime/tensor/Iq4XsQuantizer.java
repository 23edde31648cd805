package dev.rudder.runtime.tensor;

/**
 * Packs floats as ggml IQ4_XS blocks for tests (a plain quantizer, not ggml's search over scales): per 32-weight
 * sub-block the scale that maps its largest magnitude to 127, a block scale {@code d} that fits those in 6 bits around
 * 32, and each weight's nearest {@code kvalues_iq4nl} entry. Returns the blocks and the values they stand for, computed
 * as ggml's {@code dequantize_row_iq4_xs} does from the chosen integers and f16 scale.
 */
public final class Iq4XsQuantizer {
    private Iq4XsQuantizer() {
    }

    public static GgmlReferenceQuantizer.Quantized quantize(float[] x) {
        if (x.length % 256 != 0) {
            throw new IllegalArgumentException("IQ4_XS needs whole blocks of 256, got " + x.length);
        }
        int blocks = x.length / 256;
        byte[] out = new byte[blocks * 136];
        float[] values = new float[x.length];
        for (int b = 0; b < blocks; b++) {
            float[] sub = new float[8];
            float maxSub = 0;
            for (int ib = 0; ib < 8; ib++) {
                float amax = 0;
                for (int j = 0; j < 32; j++) {
                    amax = Math.max(amax, Math.abs(x[256 * b + 32 * ib + j]));
                }
                sub[ib] = amax / 127f;
                maxSub = Math.max(maxSub, sub[ib]);
            }
            short d16 = Float.floatToFloat16(maxSub / 31f);
            float d = Float.float16ToFloat(d16);
            int o = 136 * b;
            out[o] = (byte) d16;
            out[o + 1] = (byte) (d16 >> 8);
            int scalesH = 0;
            for (int ib = 0; ib < 8; ib++) {
                int ls = d == 0 ? 32 : Math.max(0, Math.min(63, Math.round(sub[ib] / d) + 32));
                scalesH |= (ls >> 4) << (2 * ib);
                out[o + 4 + ib / 2] |= (byte) ((ls & 0xF) << (4 * (ib % 2)));
                float dl = d * (ls - 32);
                int[] q = new int[32];
                for (int j = 0; j < 32; j++) {
                    q[j] = dl == 0 ? 8 : GgmlReferenceQuantizer.bestIndex(x[256 * b + 32 * ib + j] / dl);
                    values[256 * b + 32 * ib + j] = dl * GgmlReferenceQuantizer.IQ4NL[q[j]];
                }
                for (int j = 0; j < 16; j++) {
                    out[o + 8 + 16 * ib + j] = (byte) (q[j] | q[j + 16] << 4);
                }
            }
            out[o + 2] = (byte) scalesH;
            out[o + 3] = (byte) (scalesH >> 8);
        }
        return new GgmlReferenceQuantizer.Quantized(out, values);
    }
}

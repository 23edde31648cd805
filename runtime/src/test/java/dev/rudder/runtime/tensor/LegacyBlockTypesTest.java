package dev.rudder.runtime.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * ggml's blocks of 32 weights that Rudder reads and llama-quantize writes where K-quants do not fit a row (Q4_1, Q5_0,
 * Q5_1, IQ4_NL): hand-built blocks against the values of ggml's {@code dequantize_row_*} formulas, computed here from
 * the integers the blocks were built from. Each is checked on the scalar path and, with one-hot inputs (which make the
 * fused dot exactly the weight), on the vector path.
 */
class LegacyBlockTypesTest {
    private static final short ONE = Float.floatToFloat16(1f);

    /** Every weight of {@code bytes} (one or more blocks) read on both paths. */
    private static float[][] weights(String type, byte[] bytes) {
        MemorySegment seg = MemorySegment.ofArray(bytes);
        dev.rudder.runtime.io.DType t = dev.rudder.runtime.io.DType.valueOf(type);
        int cols = bytes.length / t.byteSize() * t.blockSize();
        float[] scalar = new float[cols];
        QuantizedMatrices.wrap(type, seg, 1, cols, false).readRow(0, scalar, 0);
        float[] dequantized = new float[cols];
        QuantizedMatrices.dequantize(type, seg, 0, dequantized, 0, cols);
        assertEquals(java.util.Arrays.toString(scalar), java.util.Arrays.toString(dequantized));
        BlockMatrix vector = QuantizedMatrices.wrap(type, seg, 1, cols, true);
        float[] viaDot = new float[cols];
        float[] oneHot = new float[cols];
        float[] out = new float[1];
        for (int c = 0; c < cols; c++) {
            oneHot[c] = 1f;
            vector.matvec(oneHot, 0, out, 0, 0, 1);
            viaDot[c] = out[0];
            oneHot[c] = 0f;
        }
        return new float[][] {scalar, viaDot};
    }

    private static void assertWeights(float[] want, String type, byte[] bytes) {
        for (float[] got : weights(type, bytes)) {
            for (int j = 0; j < want.length; j++) {
                assertEquals(want[j], got[j], 0f, type + " weight " + j);
            }
        }
    }

    @ParameterizedTest(name = "{0}: bit j of the little-endian qh word is bit 4 of weight j")
    @ValueSource(strings = {"Q5_0", "Q5_1"})
    void theFifthBitOfWeightJIsBitJOfQh(String type) {
        boolean withMin = type.equals("Q5_1");
        for (int k = 0; k < 32; k++) {
            byte[] b = new byte[GgmlReferenceQuantizer.blockBytes(type)];
            b[0] = (byte) ONE;                                  // d = 1.0 (f16 0x3C00, little-endian)
            b[1] = (byte) (ONE >> 8);
            int qh = withMin ? 4 : 2;
            if (withMin) {
                b[2] = 0;                                       // m = 0.25 (f16 0x3400)
                b[3] = 0x34;
            }
            b[qh + k / 8] = (byte) (1 << (k % 8));              // only bit k of qh; all nibbles 0
            float[] want = new float[32];
            for (int j = 0; j < 32; j++) {
                int v = j == k ? 16 : 0;
                want[j] = withMin ? v + 0.25f : v - 16;        // Q5_1: d*v + m; Q5_0: d*(v - 16)
            }
            assertWeights(want, type, b);
        }
    }

    @Test
    void q5_0IsScaleTimesFiveBitsMinusSixteen() {
        byte[] b = new byte[22];
        b[0] = 0x00;                                            // d = -0.5 (f16 0xB800)
        b[1] = (byte) 0xB8;
        b[2] = (byte) 0b1000_0001;                              // qh: weights 0, 7
        b[3] = 0x00;
        b[4] = (byte) 0b0000_0010;                              // weight 17
        b[5] = (byte) 0b1000_0000;                              // weight 31
        for (int j = 0; j < 16; j++) {
            b[6 + j] = (byte) (j | (15 - j) << 4);              // low nibble j, high nibble 15 - j
        }
        float[] want = new float[32];
        for (int j = 0; j < 16; j++) {
            int lo = j + (j == 0 || j == 7 ? 16 : 0);
            int hi = 15 - j + (j == 1 || j == 15 ? 16 : 0);
            want[j] = (lo - 16) * -0.5f;
            want[j + 16] = (hi - 16) * -0.5f;
        }
        assertEquals(7.5f, want[1], "weight 1: nibble 1, no fifth bit: (1 - 16) * -0.5");
        assertEquals(0.5f, want[16], "weight 16: nibble 15, no fifth bit");
        assertEquals(-7f, want[17], "weight 17: nibble 14 with the fifth bit: (30 - 16) * -0.5");
        assertWeights(want, "Q5_0", b);
    }

    @Test
    void q4_1IsScaleTimesNibblePlusMin() {
        int[] q = new int[32];
        for (int j = 0; j < 32; j++) {
            q[j] = (7 * j + 3) % 16;
        }
        float d = 0.125f;
        float m = -1.5f;
        byte[] b = GgmlReferenceQuantizer.pack("Q4_1", q, Float.floatToFloat16(d), Float.floatToFloat16(m));
        float[] want = new float[32];
        for (int j = 0; j < 32; j++) {
            want[j] = q[j] * d + m;
        }
        assertEquals(-1.5f + 3 * 0.125f, want[0]);
        assertWeights(want, "Q4_1", b);
    }

    @Test
    void q5_1IsScaleTimesFiveBitsPlusMin() {
        int[] q = new int[32];
        for (int j = 0; j < 32; j++) {
            q[j] = (13 * j + 5) % 32;                           // every value 0..31 once
        }
        float d = -0.0625f;
        float m = 0.75f;
        byte[] b = GgmlReferenceQuantizer.pack("Q5_1", q, Float.floatToFloat16(d), Float.floatToFloat16(m));
        float[] want = new float[32];
        for (int j = 0; j < 32; j++) {
            want[j] = q[j] * d + m;
        }
        assertWeights(want, "Q5_1", b);
    }

    @Test
    void iq4_nlLooksTheNibbleUpInGgmlsTable() {
        int[] table = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
        int[] q = new int[32];
        for (int j = 0; j < 32; j++) {
            q[j] = j < 16 ? j : 31 - j;
        }
        byte[] b = GgmlReferenceQuantizer.pack("IQ4_NL", q, Float.floatToFloat16(-0.25f), (short) 0);
        float[] want = new float[32];
        for (int j = 0; j < 32; j++) {
            want[j] = -0.25f * table[q[j]];
        }
        assertEquals(-0.25f * -127, want[0]);
        assertEquals(-0.25f * -127, want[31]);
        assertWeights(want, "IQ4_NL", b);
    }

    /**
     * IQ4_XS: eight 32-weight sub-blocks, each scaled by {@code d * (ls - 32)} with a 6-bit {@code ls} whose low 4 bits
     * are nibble (ib % 2) of {@code scales_l[ib / 2]} and high 2 bits are bits 2ib, 2ib+1 of {@code scales_h}; nibbles as
     * IQ4_NL's. The block is built here byte by byte, with a different scale and nibble pattern per sub-block.
     */
    @Test
    void iq4_xsScalesEachSubBlockBySixBitsSplitOverTwoFields() {
        int[] table = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};
        byte[] b = new byte[136];
        short d = Float.floatToFloat16(0.5f);
        b[0] = (byte) d;
        b[1] = (byte) (d >> 8);
        int scalesH = 0;
        int[] ls = new int[8];
        float[] want = new float[256];
        for (int ib = 0; ib < 8; ib++) {
            ls[ib] = 3 + 8 * ib;                                // 3 .. 59: every high-bit pattern, both nibble halves
            scalesH |= (ls[ib] >> 4) << (2 * ib);
            b[4 + ib / 2] |= (byte) ((ls[ib] & 0xF) << (4 * (ib % 2)));
            for (int j = 0; j < 16; j++) {
                int lo = (j + ib) % 16, hi = (3 * j + ib) % 16;
                b[8 + 16 * ib + j] = (byte) (lo | hi << 4);
                want[32 * ib + j] = (0.5f * (ls[ib] - 32)) * table[lo];
                want[32 * ib + 16 + j] = (0.5f * (ls[ib] - 32)) * table[hi];
            }
        }
        b[2] = (byte) scalesH;
        b[3] = (byte) (scalesH >> 8);
        assertEquals(0.5f * (3 - 32) * table[0], want[0]);
        assertWeights(want, "IQ4_XS", b);
    }

    @ParameterizedTest(name = "{0}: blocks of ggml's reference quantizer read back as the values it chose")
    @ValueSource(strings = {"Q4_1", "Q5_0", "Q5_1", "IQ4_NL"})
    void referenceQuantizedBlocksReadBackBitForBit(String type) {
        Random rnd = new Random(5);
        float[] x = new float[32 * 12];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian() * (1 + i / 32);
        }
        java.util.Arrays.fill(x, 64, 96, 0f);                   // an all-zero block
        java.util.Arrays.fill(x, 96, 128, -3f);                 // a constant block
        GgmlReferenceQuantizer.Quantized q = GgmlReferenceQuantizer.quantize(type, x);
        float[] got = new float[x.length];
        QuantizedMatrices.dequantize(type, MemorySegment.ofArray(q.blocks()), 0, got, 0, x.length);
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToRawIntBits(q.values()[i]), Float.floatToRawIntBits(got[i]),
                    type + " weight " + i);
            // and the quantizer is a quantizer: within a step of the input (a 5-bit step is range/31, 4-bit range/15)
            assertEquals(x[i], got[i], 0.35 * (1 + i / 32), type + " weight " + i + " vs input");
        }
    }
}

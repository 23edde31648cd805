package dev.rudder.runtime.tensor;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Q2_K and Q3_K super-blocks packed by the test ({@link LowBitKQuantizer}) from random integers over their whole
 * ranges (every quant, scale and min value, every hmask bit and 6-bit scale position) read back as the values of
 * ggml's {@code dequantize_row_q2_K} / {@code dequantize_row_q3_K} formulas computed from those integers: on the scalar
 * path and, through one-hot inputs (the fused dot is then exactly the weight: products of an f16 scale and small
 * integers are exact in float), on the vector path.
 */
class LowBitKBlocksTest {
    private final Random rnd = new Random(5);

    @ParameterizedTest(name = "{0}: random integers read back as ggml's dequantization formula")
    @ValueSource(strings = {"Q2_K", "Q3_K"})
    void blocksOfRandomIntegersReadBackAsGgmlsFormula(String type) {
        int blocks = 3;
        int cols = blocks * 256;
        ByteBuffer bytes = ByteBuffer.allocate(blocks * LowBitKQuantizer.blockBytes(type));
        float[] want = new float[cols];
        int[] q = new int[256];
        int[] sc = new int[16];
        int[] mn = new int[16];
        for (int b = 0; b < blocks; b++) {
            short d16 = Float.floatToFloat16((float) rnd.nextGaussian() * 0.01f);
            short m16 = Float.floatToFloat16((float) rnd.nextGaussian() * 0.01f);
            float d = Float.float16ToFloat(d16), dmin = Float.float16ToFloat(m16);
            boolean q2 = type.equals("Q2_K");
            for (int g = 0; g < 16; g++) {
                sc[g] = q2 ? rnd.nextInt(16) : rnd.nextInt(64) - 32;
                mn[g] = rnd.nextInt(16);
            }
            for (int i = 0; i < 256; i++) {
                q[i] = q2 ? rnd.nextInt(4) : rnd.nextInt(8) - 4;
                want[256 * b + i] = q2 ? (d * sc[i / 16]) * q[i] - dmin * mn[i / 16] : (d * sc[i / 16]) * q[i];
            }
            bytes.put(q2 ? LowBitKQuantizer.packQ2K(q, sc, mn, d16, m16) : LowBitKQuantizer.packQ3K(q, sc, d16));
        }
        MemorySegment seg = MemorySegment.ofArray(bytes.array());
        float[] scalar = new float[cols];
        QuantizedMatrices.wrap(type, seg, 1, cols, false).readRow(0, scalar, 0);
        BlockMatrix vector = QuantizedMatrices.wrap(type, seg, 1, cols, true);
        float[] oneHot = new float[cols];
        float[] out = new float[1];
        for (int c = 0; c < cols; c++) {
            assertEquals(Float.floatToRawIntBits(want[c] + 0f), Float.floatToRawIntBits(scalar[c] + 0f), type + " weight " + c);
            oneHot[c] = 1f;
            vector.matvec(oneHot, 0, out, 0, 0, 1);
            oneHot[c] = 0f;
            assertEquals(want[c], out[0], 0f, type + " weight " + c + " through the vector dot");
        }
    }
}

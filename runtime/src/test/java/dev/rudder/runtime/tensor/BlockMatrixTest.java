package dev.rudder.runtime.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The block-quantized types: Vector API paths against the scalar reference, and the Q8_0/Q4_0 quantizer. */
class BlockMatrixTest {
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    final Random rnd = new Random(11);

    record Layout(int block, int blockBytes, int[] scaleOffsets) {
    }

    static Layout layout(String type) {
        return switch (type) {
            case "Q8_0" -> new Layout(32, 34, new int[] {0});
            case "Q4_0" -> new Layout(32, 18, new int[] {0});
            case "Q4_1" -> new Layout(32, 20, new int[] {0, 2});
            case "Q5_0" -> new Layout(32, 22, new int[] {0});
            case "Q5_1" -> new Layout(32, 24, new int[] {0, 2});
            case "IQ4_NL" -> new Layout(32, 18, new int[] {0});
            case "IQ4_XS" -> new Layout(256, 136, new int[] {0});
            case "Q2_K" -> new Layout(256, 84, new int[] {80, 82});
            case "Q3_K" -> new Layout(256, 110, new int[] {108});
            case "Q4_K" -> new Layout(256, 144, new int[] {0, 2});
            case "Q5_K" -> new Layout(256, 176, new int[] {0, 2});
            case "Q6_K" -> new Layout(256, 210, new int[] {208});
            default -> throw new AssertionError(type);
        };
    }

    /** Random blocks (random quant bytes, small random f16 scales) at an odd address. */
    MemorySegment randomBlocks(String type, int rows, int cols, Arena arena) {
        Layout l = layout(type);
        int blocks = rows * cols / l.block();
        long bytes = (long) blocks * l.blockBytes();
        MemorySegment seg = arena.allocate(bytes + 1).asSlice(1, bytes);
        byte[] b = new byte[(int) bytes];
        rnd.nextBytes(b);
        MemorySegment.copy(b, 0, seg, ValueLayout.JAVA_BYTE, 0, b.length);
        for (int k = 0; k < blocks; k++) {
            for (int off : l.scaleOffsets()) {
                seg.set(SHORT_LE, (long) k * l.blockBytes() + off, Float.floatToFloat16((float) rnd.nextGaussian() * 0.01f));
            }
        }
        return seg;
    }

    float[] randomFloats(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    @ParameterizedTest(name = "{0}: vector matvec and matmul equal the scalar reference")
    @ValueSource(strings = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "IQ4_XS", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void vectorPathsMatchTheScalarReference(String type) {
        Layout l = layout(type);
        try (Arena arena = Arena.ofConfined()) {
            for (int rows : new int[] {1, 3, 7, 13}) {
                for (int blocks : new int[] {1, 2, 3}) {
                    int cols = blocks * l.block();
                    MemorySegment seg = randomBlocks(type, rows, cols, arena);
                    BlockMatrix scalar = QuantizedMatrices.wrap(type, seg, rows, cols, false);
                    BlockMatrix vector = QuantizedMatrices.wrap(type, seg, rows, cols, true);
                    float[] dense = new float[rows * cols];
                    for (int r = 0; r < rows; r++) {
                        scalar.readRow(r, dense, r * cols);
                    }
                    for (int n : new int[] {1, 3, 4, 9}) {
                        float[] x = randomFloats(n * cols);
                        float[] want = new float[n * rows];
                        float[] got = new float[n * rows];
                        float[] gotMatvec = new float[n * rows];
                        scalar.matmul(x, n, want, rows, 0, rows);
                        vector.matmul(x, n, got, rows, 0, rows);
                        for (int i = 0; i < n; i++) {
                            vector.matvec(x, i * cols, gotMatvec, i * rows, 0, rows);
                        }
                        for (int i = 0; i < n * rows; i++) {
                            // tolerance from the magnitudes summed: float32 rounding in another order
                            int r = i % rows;
                            double mag = 0;
                            for (int c = 0; c < cols; c++) {
                                mag += Math.abs(dense[r * cols + c] * x[(i / rows) * cols + c]);
                            }
                            double tol = 1e-5 * mag + 1e-6;
                            String at = type + " rows " + rows + " cols " + cols + " n " + n + " out " + i;
                            assertEquals(want[i], got[i], tol, at + " matmul");
                            assertEquals(want[i], gotMatvec[i], tol, at + " matvec");
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}: the vector widening (matmul) is the exact dequantization, bit for bit")
    @ValueSource(strings = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "IQ4_XS", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void vectorWideningIsTheExactDequantization(String type) {
        Layout l = layout(type);
        int rows = 5;
        int cols = 3 * l.block();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = randomBlocks(type, rows, cols, arena);
            BlockMatrix vector = QuantizedMatrices.wrap(type, seg, rows, cols, true);
            assumeTrue(vector.isVector(), "no block kernels with 4 float lanes");
            RowKernel k = vector.vectorKernel();
            BlockMatrix scalar = QuantizedMatrices.wrap(type, seg, rows, cols, false);
            for (int r = 0; r < rows; r++) {
                float[] want = new float[cols + 3];
                float[] got = new float[cols + 3];
                scalar.readRow(r, want, 3);
                k.widen(r, got, 3);
                for (int c = 0; c < cols + 3; c++) {
                    assertEquals(Float.floatToRawIntBits(want[c]), Float.floatToRawIntBits(got[c]),
                            type + " row " + r + " column " + (c - 3));
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}: a row's matvec bits depend only on the row and the input (range, batch)")
    @ValueSource(strings = {"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "IQ4_XS", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void matvecBitsDoNotDependOnRangeOrBatch(String type) {
        Layout l = layout(type);
        int rows = 11;
        int cols = 2 * l.block();
        try (Arena arena = Arena.ofConfined()) {
            for (boolean vec : new boolean[] {false, true}) {
                BlockMatrix m = QuantizedMatrices.wrap(type, randomBlocks(type, rows, cols, arena), rows, cols, vec);
                int n = 17;                           // past RowKernel.MAX_BATCH: calls of 16 and 1
                float[] x = randomFloats(n * cols);
                for (int b : new int[] {1, 2, 3, 4, 5, 8, 9, 16, 17}) {
                    float[] batch = new float[b * rows];
                    m.matvecBatch(x, b, cols, batch, rows, 0, rows);
                    for (int i = 0; i < b; i++) {
                        float[] one = new float[rows];
                        m.matvec(x, i * cols, one, 0, 0, rows);
                        for (int r = 0; r < rows; r++) {
                            assertEquals(Float.floatToRawIntBits(one[r]), Float.floatToRawIntBits(batch[i * rows + r]),
                                    type + " batch of " + b + " input " + i + " row " + r);
                        }
                    }
                }
                float[] whole = new float[n * rows];
                m.matvecBatch(x, n, cols, whole, rows, 0, rows);
                for (int i = 0; i < n; i++) {
                    float[] one = new float[rows];
                    m.matvec(x, i * cols, one, 0, 0, rows);
                    float[] parts = new float[rows];
                    m.matvec(x, i * cols, parts, 0, 0, 5);
                    m.matvec(x, i * cols, parts, 0, 5, rows);
                    for (int r = 0; r < rows; r++) {
                        assertEquals(Float.floatToRawIntBits(one[r]), Float.floatToRawIntBits(whole[i * rows + r]),
                                type + " batch input " + i + " row " + r);
                        assertEquals(Float.floatToRawIntBits(one[r]), Float.floatToRawIntBits(parts[r]),
                                type + " split range row " + r);
                    }
                }
            }
        }
    }

    @Test
    void q8_0RoundTripIsWithinHalfAStep() {
        float[] x = randomFloats(32 * 8);
        x[5] = 0f;
        java.util.Arrays.fill(x, 64, 96, 0f); // an all-zero block: scale 0, no NaN
        MemorySegment q = MemorySegment.ofArray(new byte[(int) BlockQuantizer.bytes("Q8_0", x.length)]);
        BlockQuantizer.quantize("Q8_0", x, 0, x.length, q, 0);
        float[] back = new float[x.length];
        QuantizedMatrices.dequantize("Q8_0", q, 0, back, 0, x.length);
        for (int b = 0; b < 8; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) {
                amax = Math.max(amax, Math.abs(x[b * 32 + j]));
            }
            float d = Float.float16ToFloat(Float.floatToFloat16(amax / 127f));
            for (int j = 0; j < 32; j++) {
                assertEquals(x[b * 32 + j], back[b * 32 + j], d * 0.5f + 1e-3f * amax, "element " + (b * 32 + j));
            }
        }
    }

    @Test
    void q4_0UsesTheSignedLargestMagnitudeAsMinusEight() {
        float[] x = new float[32];
        for (int j = 0; j < 32; j++) {
            x[j] = j - 12; // largest magnitude: 19 at j = 31, positive
        }
        MemorySegment q = MemorySegment.ofArray(new byte[18]);
        BlockQuantizer.quantize("Q4_0", x, 0, 32, q, 0);
        float d = Float.float16ToFloat(q.get(SHORT_LE, 0));
        assertEquals(19f / -8f, d, 1e-3f);
        float[] back = new float[32];
        QuantizedMatrices.dequantize("Q4_0", q, 0, back, 0, 32);
        assertEquals(19f, back[31], 1e-2f); // the extreme maps exactly to -8 * d
        for (int j = 0; j < 32; j++) {
            assertEquals(x[j], back[j], Math.abs(d) * 0.5f + 1e-2f, "element " + j);
        }
    }

    @Test
    void roundingIsHalfAwayFromZeroAsCsRoundf() {
        assertEquals(3, BlockQuantizer.roundHalfAway(2.5f));
        assertEquals(-3, BlockQuantizer.roundHalfAway(-2.5f));
        assertEquals(0, BlockQuantizer.roundHalfAway(0.49999997f));
        assertEquals(-1, BlockQuantizer.roundHalfAway(-0.5f));
    }

    @Test
    void wrongSizesAreRejected() {
        MemorySegment seg = MemorySegment.ofArray(new byte[33]);
        assertThrows(IllegalArgumentException.class, () -> QuantizedMatrices.wrap("Q8_0", seg, 1, 32));
        assertThrows(IllegalArgumentException.class, () -> QuantizedMatrices.wrap("Q8_0", seg, 1, 31));
    }
}

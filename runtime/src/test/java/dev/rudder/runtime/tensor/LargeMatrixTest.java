package dev.rudder.runtime.tensor;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.RandomAccessFile;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * A matrix of more than 2 GiB, of each weight type, gives the same
 * bits as the same rows in a small matrix: the kernels' int byte offsets do not reach its far rows, so those take the
 * long-offset loops or read a row through a slice of its own. The file is sparse: only the rows read are written.
 */
class LargeMatrixTest {
    private static final int COLS = 1024;
    private static final int TAIL = 8;

    @ParameterizedTest
    @ValueSource(strings = {"BF16", "F16", "F32", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "IQ4_XS", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void rowsPastTwoGibibytesGiveTheBitsOfTheSameRowsInASmallMatrix(String type, @TempDir Path dir) throws Exception {
        int rowBytes = switch (type) {
            case "BF16", "F16" -> 2 * COLS;
            case "F32" -> 4 * COLS;
            case "Q8_0" -> COLS / Q8_0Matrix.BLOCK * Q8_0Matrix.BLOCK_BYTES;
            case "Q4_1" -> COLS / Q4_1Matrix.BLOCK * Q4_1Matrix.BLOCK_BYTES;
            case "IQ4_NL" -> COLS / IQ4_NLMatrix.BLOCK * IQ4_NLMatrix.BLOCK_BYTES;
            case "IQ4_XS" -> COLS / IQ4_XSMatrix.BLOCK * IQ4_XSMatrix.BLOCK_BYTES;
            case "Q5_0" -> COLS / Q5_0Matrix.BLOCK * Q5_0Matrix.BLOCK_BYTES;
            case "Q5_1" -> COLS / Q5_1Matrix.BLOCK * Q5_1Matrix.BLOCK_BYTES;
            case "Q2_K" -> COLS / Q2KMatrix.BLOCK * Q2KMatrix.BLOCK_BYTES;
            case "Q3_K" -> COLS / Q3KMatrix.BLOCK * Q3KMatrix.BLOCK_BYTES;
            case "Q4_K" -> COLS / Q4KMatrix.BLOCK * Q4KMatrix.BLOCK_BYTES;
            case "Q5_K" -> COLS / Q5KMatrix.BLOCK * Q5KMatrix.BLOCK_BYTES;
            case "Q6_K" -> COLS / Q6KMatrix.BLOCK * Q6KMatrix.BLOCK_BYTES;
            default -> COLS / Q4_0Matrix.BLOCK * Q4_0Matrix.BLOCK_BYTES;
        };
        final int ROWS = (int) ((1L << 31) / rowBytes) + TAIL;   // 2 GiB + 8 rows
        SplittableRandom r = new SplittableRandom(9);
        ByteBuffer tail = ByteBuffer.allocate(TAIL * rowBytes).order(ByteOrder.LITTLE_ENDIAN);   // [TAIL, rowBytes]
        while (tail.hasRemaining()) {
            float w = (float) r.nextGaussian();
            switch (type) {
                case "BF16" -> tail.putShort((short) (Float.floatToRawIntBits(w) >>> 16));
                case "F32" -> tail.putFloat(w);
                case "F16" -> tail.putShort(Float.floatToFloat16(w));
                case "Q8_0" -> {   // a block: f16 scale, 32 int8 weights
                    tail.putShort(Float.floatToFloat16(0.01f * w));
                    for (int i = 0; i < Q8_0Matrix.BLOCK; i++) {
                        tail.put((byte) r.nextInt());
                    }
                }
                case "Q5_0" -> {   // a block: f16 scale, 4 bytes of fifth bits, 16 bytes of nibbles
                    tail.putShort(Float.floatToFloat16(0.01f * w));
                    for (int i = 0; i < 4 + Q5_0Matrix.BLOCK / 2; i++) {
                        tail.put((byte) r.nextInt());
                    }
                }
                case "Q4_1" -> {   // a block: f16 scale, f16 min, 16 bytes of nibbles
                    tail.putShort(Float.floatToFloat16(0.01f * w));
                    tail.putShort(Float.floatToFloat16(0.01f * (float) r.nextGaussian()));
                    for (int i = 0; i < Q4_1Matrix.BLOCK / 2; i++) {
                        tail.put((byte) r.nextInt());
                    }
                }
                case "Q5_1" -> {   // a block: f16 scale, f16 min, 4 bytes of fifth bits, 16 bytes of nibbles
                    tail.putShort(Float.floatToFloat16(0.01f * w));
                    tail.putShort(Float.floatToFloat16(0.01f * (float) r.nextGaussian()));
                    for (int i = 0; i < 4 + Q5_1Matrix.BLOCK / 2; i++) {
                        tail.put((byte) r.nextInt());
                    }
                }
                case "Q4_K", "Q5_K" -> superBlock(tail, r, 0, type.equals("Q4_K") ? Q4KMatrix.BLOCK_BYTES : Q5KMatrix.BLOCK_BYTES);
                case "IQ4_XS" -> superBlock(tail, r, 0, IQ4_XSMatrix.BLOCK_BYTES);   // f16 d first, then scales and nibbles
                case "Q6_K" -> superBlock(tail, r, Q6KMatrix.BLOCK_BYTES - 2, Q6KMatrix.BLOCK_BYTES);
                case "Q3_K" -> superBlock(tail, r, Q3KMatrix.D, Q3KMatrix.BLOCK_BYTES);
                case "Q2_K" -> {   // d and dmin at the end
                    superBlock(tail, r, Q2KMatrix.D, Q2KMatrix.BLOCK_BYTES);
                    tail.putShort(tail.position() - 2, Float.floatToFloat16(0.01f * (float) r.nextGaussian()));
                }
                default -> {   // a block: f16 scale, 16 bytes of nibbles
                    tail.putShort(Float.floatToFloat16(0.01f * w));
                    for (int i = 0; i < Q4_0Matrix.BLOCK / 2; i++) {
                        tail.put((byte) r.nextInt());
                    }
                }
            }
        }
        tail.flip();
        Path f = dir.resolve("large.bin");
        long bytes = (long) ROWS * rowBytes;
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(bytes);
            raf.getChannel().write(tail.duplicate(), bytes - tail.remaining());
        }
        float[] x = new float[COLS * 3];   // [3 inputs, COLS]
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(f)) {
            MemorySegment big = ch.map(FileChannel.MapMode.READ_ONLY, 0, bytes, arena);
            MemorySegment small = arena.allocate(tail.remaining());
            MemorySegment.copy(MemorySegment.ofBuffer(tail), 0, small, 0, tail.remaining());
            SegmentMatrix large = matrix(type, big, ROWS);
            SegmentMatrix same = matrix(type, small, TAIL);
            float[] want = new float[TAIL];
            float[] got = new float[ROWS];
            same.matvec(x, 0, want, 0, 0, TAIL);
            large.matvec(x, 0, got, 0, ROWS - TAIL, ROWS);
            assertArrayEquals(want, java.util.Arrays.copyOfRange(got, ROWS - TAIL, ROWS), "matvec");
            float[] wantN = new float[3 * TAIL];   // [3 inputs, TAIL rows]
            float[] gotN = new float[3 * ROWS];    // [3 inputs, ROWS]
            same.matvecBatch(x, 3, COLS, wantN, TAIL, 0, TAIL);
            large.matvecBatch(x, 3, COLS, gotN, ROWS, ROWS - TAIL, ROWS);
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(java.util.Arrays.copyOfRange(wantN, i * TAIL, (i + 1) * TAIL),
                        java.util.Arrays.copyOfRange(gotN, i * ROWS + ROWS - TAIL, (i + 1) * ROWS), "batch input " + i);
            }
        }
    }

    /**
     * A K-quant super-block of random bytes whose f16 scales (at {@code scaleAt}, and {@code scaleAt + 2} for Q4_K and
     * Q5_K's dmin) are small finite numbers.
     */
    private static void superBlock(ByteBuffer out, SplittableRandom r, int scaleAt, int bytes) {
        int start = out.position();
        for (int i = 0; i < bytes; i++) {
            out.put((byte) r.nextInt());
        }
        out.putShort(start + scaleAt, Float.floatToFloat16(0.01f * (float) r.nextGaussian()));
        if (scaleAt == 0) {
            out.putShort(start + 2, Float.floatToFloat16(0.01f * (float) r.nextGaussian()));
        }
    }

    private static SegmentMatrix matrix(String type, MemorySegment data, int rows) {
        return switch (type) {
            case "BF16" -> new BF16Matrix(data, rows, COLS, true);
            case "F32" -> new F32Matrix(data, rows, COLS, true);
            case "F16" -> new F16Matrix(data, rows, COLS, true);
            case "Q8_0" -> new Q8_0Matrix(data, rows, COLS, true);
            case "Q4_1" -> new Q4_1Matrix(data, rows, COLS, true);
            case "IQ4_NL" -> new IQ4_NLMatrix(data, rows, COLS, true);
            case "IQ4_XS" -> new IQ4_XSMatrix(data, rows, COLS, true);
            case "Q5_0" -> new Q5_0Matrix(data, rows, COLS, true);
            case "Q5_1" -> new Q5_1Matrix(data, rows, COLS, true);
            case "Q2_K" -> new Q2KMatrix(data, rows, COLS, true);
            case "Q3_K" -> new Q3KMatrix(data, rows, COLS, true);
            case "Q4_K" -> new Q4KMatrix(data, rows, COLS, true);
            case "Q5_K" -> new Q5KMatrix(data, rows, COLS, true);
            case "Q6_K" -> new Q6KMatrix(data, rows, COLS, true);
            default -> new Q4_0Matrix(data, rows, COLS, true);
        };
    }
}

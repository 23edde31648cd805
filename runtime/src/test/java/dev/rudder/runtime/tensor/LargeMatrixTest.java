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
 * A BF16 or F32 matrix of more than 2 GiB (the kernels' int byte offsets do not reach its far rows, so they take the
 * long-offset paths) gives the same bits as the same rows in a small matrix. The file is sparse: only the rows
 * read are written.
 */
class LargeMatrixTest {
    private static final int COLS = 1024;
    private static final int TAIL = 8;

    @ParameterizedTest
    @ValueSource(ints = {2, 4})   // bytes per weight: BF16, F32
    void rowsPastTwoGibibytesGiveTheBitsOfTheSameRowsInASmallMatrix(int width, @TempDir Path dir) throws Exception {
        final int ROWS = (int) ((1L << 31) / COLS / width) + TAIL;   // 2 GiB + 8 rows
        SplittableRandom r = new SplittableRandom(9);
        ByteBuffer tail = ByteBuffer.allocate(TAIL * COLS * width).order(ByteOrder.LITTLE_ENDIAN);   // [TAIL, COLS]
        while (tail.hasRemaining()) {
            float w = (float) r.nextGaussian();
            if (width == 2) {
                tail.putShort((short) (Float.floatToRawIntBits(w) >>> 16));
            } else {
                tail.putFloat(w);
            }
        }
        tail.flip();
        Path f = dir.resolve("large.bin");
        long bytes = (long) ROWS * COLS * width;
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
            SegmentMatrix large = width == 2 ? new BF16Matrix(big, ROWS, COLS, true) : new F32Matrix(big, ROWS, COLS, true);
            SegmentMatrix same = width == 2 ? new BF16Matrix(small, TAIL, COLS, true) : new F32Matrix(small, TAIL, COLS, true);
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
}

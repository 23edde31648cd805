package dev.rudder.runtime.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
 * A BF16 matrix of more than 2 GiB (the kernels' int byte offsets do not reach its far rows, so they take the
 * long-offset paths) gives the same bits as the same rows in a small matrix. The file is sparse: only the rows
 * read are written.
 */
class LargeMatrixTest {
    private static final int COLS = 1024;
    private static final int ROWS = (1 << 20) + 8;   // 2 GiB + 16 KiB of BF16
    private static final int TAIL = 8;

    @Test
    void rowsPastTwoGibibytesGiveTheBitsOfTheSameRowsInASmallMatrix(@TempDir Path dir) throws Exception {
        SplittableRandom r = new SplittableRandom(9);
        ByteBuffer tail = ByteBuffer.allocate(TAIL * COLS * 2).order(ByteOrder.LITTLE_ENDIAN);   // [TAIL, COLS] bf16
        while (tail.hasRemaining()) {
            tail.putShort((short) (Float.floatToRawIntBits((float) r.nextGaussian()) >>> 16));
        }
        tail.flip();
        Path f = dir.resolve("large.bin");
        long bytes = (long) ROWS * COLS * 2;
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
            BF16Matrix large = new BF16Matrix(big, ROWS, COLS, true);
            BF16Matrix same = new BF16Matrix(small, TAIL, COLS, true);
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

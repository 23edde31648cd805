package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.kernel.VectorSupport;

import org.junit.jupiter.api.Order;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Once the JIT has compiled them, the row kernels of every weight type allocate nothing: a Vector API operation C2
 * does not intrinsify (e.g. converting the second part of a wide byte vector) or a vector passed to a method it does
 * not inline is an object per call, and the kernel runs several times slower (the K-quant kernels decoded at 1-3 G
 * weights/s that way). Counts the bytes this thread allocates over rounds of matvec, batched matvec and matmul
 * calls until a round allocates nothing; fails if none does within the time limit, with what one more round
 * allocated in each driver (matvec, batched matvec, matmul) to say which loop boxes. Not a timing assertion: the
 * limit only bounds how long the JIT may take. Runs first in the suite (see junit-platform.properties): the JIT state
 * left by hundreds of other tests is not what a process running one model has.
 */
@Order(1)
class KernelAllocationTest {
    private static final int ROWS = 64;
    private static final int COLS = 512;
    private static final long LIMIT_NANOS = 30_000_000_000L;

    @ParameterizedTest(name = "{0}: the compiled kernels allocate nothing")
    @ValueSource(strings = {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "IQ4_XS", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void compiledKernelsDoNotAllocate(String type) {
        assumeTrue(VectorSupport.useVector(), "the Vector API path is off");
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long self = Thread.currentThread().threadId();
        try (Arena arena = Arena.ofConfined()) {
            WeightMatrix m = WeightMatrices.wrap(DType.valueOf(type), randomWeights(type, arena, ROWS, COLS), ROWS, COLS);
            Random rnd = new Random(3);
            float[] x = new float[8 * COLS];          // [8 inputs, COLS]
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            float[] out = new float[8 * ROWS];        // [8 inputs, ROWS]
            long start = System.nanoTime();
            long allocated = Long.MAX_VALUE;
            while (allocated > 0 && System.nanoTime() - start < LIMIT_NANOS) {
                long before = threads.getThreadAllocatedBytes(self);
                for (int i = 0; i < 500; i++) {
                    m.matvec(x, 0, out, 0, 0, ROWS);
                    m.matvecBatch(x, 3, COLS, out, ROWS, 0, ROWS);
                    if (i % 25 == 0) {
                        m.matmul(x, 8, out, ROWS, 0, ROWS);
                    }
                }
                allocated = threads.getThreadAllocatedBytes(self) - before;
            }
            long elapsed = (System.nanoTime() - start) / 1_000_000;
            if (allocated > 0) {   // which driver allocates (matvec: row loops; batch: two-input loops; matmul: widening)
                long[] by = new long[3];
                for (int i = 0; i < 500; i++) {
                    long b0 = threads.getThreadAllocatedBytes(self);
                    m.matvec(x, 0, out, 0, 0, ROWS);
                    long b1 = threads.getThreadAllocatedBytes(self);
                    m.matvecBatch(x, 3, COLS, out, ROWS, 0, ROWS);
                    long b2 = threads.getThreadAllocatedBytes(self);
                    by[0] += b1 - b0;
                    by[1] += b2 - b1;
                    if (i % 25 == 0) {
                        m.matmul(x, 8, out, ROWS, 0, ROWS);
                        by[2] += threads.getThreadAllocatedBytes(self) - b2;
                    }
                }
                fail(type + ": a round of kernel calls still allocated " + allocated + " bytes after " + elapsed
                        + " ms (the next round: matvec " + by[0] + ", matvecBatch " + by[1] + ", matmul " + by[2] + ")");
            }
        }
    }

    /** Random bytes; block types get small finite f16 scales where their layouts keep them. */
    static MemorySegment randomWeights(String type, Arena arena, int rows, int cols) {
        DType dtype = DType.valueOf(type);
        long bytes = dtype.bytesFor((long) rows * cols);
        MemorySegment seg = arena.allocate(bytes);
        Random rnd = new Random(7);
        byte[] b = new byte[(int) bytes];
        rnd.nextBytes(b);
        MemorySegment.copy(b, 0, seg, ValueLayout.JAVA_BYTE, 0, b.length);
        if (dtype.isQuantized()) {
            BlockMatrixTest.Layout l = BlockMatrixTest.layout(type);
            for (long k = 0; k < bytes / l.blockBytes(); k++) {
                for (int off : l.scaleOffsets()) {
                    seg.set(BlockMatrixTest.SHORT_LE, k * l.blockBytes() + off, Float.floatToFloat16(0.01f));
                }
            }
        }
        return seg;
    }
}

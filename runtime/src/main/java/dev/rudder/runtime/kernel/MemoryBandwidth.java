package dev.rudder.runtime.kernel;

import dev.rudder.runtime.parallel.WorkerPool;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Measures this machine's memory read bandwidth the way decode reads weights: each thread streams
 * its share of an off-heap buffer much larger than the caches, four sequential streams per thread
 * (as the matvec driver reads rows), summing what it reads so nothing is optimised away.
 *
 * <p>A probe keeps its buffer so that single passes can be interleaved with what they are compared
 * with (a shared VM's bandwidth drifts by half within minutes: a figure taken at another moment
 * makes a ratio that says more about the moment than about the program).
 */
public final class MemoryBandwidth implements AutoCloseable {
    private static final long CHUNK = 64 * 1024;       // work unit: 64 KiB, four streams of 16 KiB
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buf;                   // [size] bytes, every page touched
    private final double[] sink;

    /** A probe over a buffer of about {@code bytes} bytes (at least 64 KiB), for up to {@code threads} threads. */
    public MemoryBandwidth(long bytes, int threads) {
        long size = Math.max(CHUNK, bytes / CHUNK * CHUNK);
        buf = arena.allocate(size, 4096);
        for (long o = 0; o < size; o += 8) {            // touch every page, non-zero data
            buf.set(ValueLayout.JAVA_LONG, o, o * 0x9E3779B97F4A7C15L);
        }
        sink = new double[Math.max(1, threads) * 16];
    }

    /** One pass over the buffer with the pool's threads: bytes per second. */
    public double pass(WorkerPool pool) {
        int units = (int) (buf.byteSize() / CHUNK);
        long t0 = System.nanoTime();
        pool.parallelFor(units, (s, e) -> {
            float v = VectorSupport.useVector() ? Vec.read(buf, s * CHUNK, e * CHUNK) : scalarRead(buf, s * CHUNK, e * CHUNK);
            sink[(s % (sink.length / 16)) * 16] += v;
        });
        double sec = (System.nanoTime() - t0) / 1e9;
        if (Double.isNaN(sink[0])) {
            System.err.print("");                       // keep the sums alive
        }
        return buf.byteSize() / sec;
    }

    @Override
    public void close() {
        arena.close();
    }

    private static float scalarRead(MemorySegment buf, long from, long to) {
        long acc = 0;
        for (long o = from; o < to; o += 8) {
            acc += buf.get(ValueLayout.JAVA_LONG, o);
        }
        return acc;
    }

    private static final class Vec {
        /** Four quarter-apart streams over [from, to), one accumulator each. */
        static float read(MemorySegment buf, long from, long to) {
            long q = (to - from) / 4;
            long step = Vectors.F.vectorByteSize();
            FloatVector a0 = FloatVector.zero(Vectors.F), a1 = FloatVector.zero(Vectors.F);
            FloatVector a2 = FloatVector.zero(Vectors.F), a3 = FloatVector.zero(Vectors.F);
            for (long o = from; o + step <= from + q; o += step) {
                a0 = a0.add(FloatVector.fromMemorySegment(Vectors.F, buf, o, ByteOrder.LITTLE_ENDIAN));
                a1 = a1.add(FloatVector.fromMemorySegment(Vectors.F, buf, o + q, ByteOrder.LITTLE_ENDIAN));
                a2 = a2.add(FloatVector.fromMemorySegment(Vectors.F, buf, o + 2 * q, ByteOrder.LITTLE_ENDIAN));
                a3 = a3.add(FloatVector.fromMemorySegment(Vectors.F, buf, o + 3 * q, ByteOrder.LITTLE_ENDIAN));
            }
            return a0.add(a1).add(a2.add(a3)).lane(0);
        }
    }
}

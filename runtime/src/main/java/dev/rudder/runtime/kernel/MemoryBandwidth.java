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
 * (as the matvec driver reads rows), summing what it reads so nothing is optimised away. The
 * best of several passes is the figure (the machine's capability, not a bad moment's).
 */
public final class MemoryBandwidth {
    private MemoryBandwidth() {
    }

    /** Read bandwidth in bytes per second over a {@code bytes}-byte buffer with the pool's threads. */
    public static double measure(WorkerPool pool, long bytes, int passes) {
        long chunk = 64 * 1024;                          // work unit: 64 KiB, four streams of 16 KiB
        long size = Math.max(chunk, bytes / chunk * chunk);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment buf = arena.allocate(size, 4096);
            for (long o = 0; o < size; o += 8) {            // touch every page, non-zero data
                buf.set(ValueLayout.JAVA_LONG, o, o * 0x9E3779B97F4A7C15L);
            }
            int units = (int) (size / chunk);
            double[] sink = new double[pool.threads() * 16];
            double best = 0;
            for (int p = 0; p < Math.max(1, passes); p++) {
                long t0 = System.nanoTime();
                pool.parallelFor(units, (s, e) -> {
                    float v = VectorSupport.useVector() ? Vec.read(buf, s * chunk, e * chunk) : scalarRead(buf, s * chunk, e * chunk);
                    sink[(s % pool.threads()) * 16] += v;
                });
                double sec = (System.nanoTime() - t0) / 1e9;
                best = Math.max(best, size / sec);
            }
            if (Double.isNaN(sink[0])) {
                System.err.print("");                       // keep the sums alive
            }
            return best;
        }
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

package dev.rudder.runtime.cuda;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * GPU time per kernel, for finding where a step's time goes: while {@link #start started}, every
 * launch on a {@link CudaGpu} queue is bracketed by two events, and the elapsed times are summed
 * per kernel when the queue next waits for the GPU. Off by default (the events cost host time).
 */
public final class KernelProfile {
    private static volatile boolean on;
    private static final Map<String, double[]> TOTALS = new TreeMap<>();   // kernel -> {milliseconds, launches}

    private KernelProfile() {
    }

    public static void start() {
        synchronized (TOTALS) {
            TOTALS.clear();
        }
        on = true;
    }

    public static void stop() {
        on = false;
    }

    static boolean on() {
        return on;
    }

    /** Kernel name, total GPU milliseconds and launches, largest total first. */
    public static List<Map.Entry<String, double[]>> totals() {
        synchronized (TOTALS) {
            List<Map.Entry<String, double[]>> l = new ArrayList<>();
            TOTALS.forEach((k, v) -> l.add(Map.entry(k, v.clone())));
            l.sort((a, b) -> Double.compare(b.getValue()[0], a.getValue()[0]));
            return l;
        }
    }

    /** The events of one queue: launches bracketed since the last wait, and a pool to reuse. */
    static final class Recorder {
        private record Pending(String kernel, CudaEvent start, CudaEvent end) {
        }

        private final CudaDevice device;
        private final ArrayDeque<CudaEvent> pool = new ArrayDeque<>();
        private final List<Pending> pending = new ArrayList<>();

        Recorder(CudaDevice device) {
            this.device = device;
        }

        /** Launches through {@code launch} with events before and after it on {@code stream}. */
        void bracket(String kernel, CudaStream stream, Runnable launch) {
            CudaEvent a = take();
            CudaEvent b = take();
            a.record(stream);
            launch.run();
            b.record(stream);
            pending.add(new Pending(kernel, a, b));
        }

        private CudaEvent take() {
            CudaEvent e = pool.poll();
            return e != null ? e : device.newEvent();
        }

        /** After the stream finished: adds the bracketed times to the totals. */
        void collect() {
            if (pending.isEmpty()) {
                return;
            }
            synchronized (TOTALS) {
                for (Pending p : pending) {
                    double[] t = TOTALS.computeIfAbsent(p.kernel, k -> new double[2]);
                    t[0] += p.end.millisSince(p.start);
                    t[1]++;
                    pool.add(p.start);
                    pool.add(p.end);
                }
            }
            pending.clear();
        }

        void close() {
            pending.forEach(p -> {
                pool.add(p.start);
                pool.add(p.end);
            });
            pending.clear();
            pool.forEach(CudaEvent::close);
            pool.clear();
        }
    }
}

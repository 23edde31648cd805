package dev.rudder.runtime.parallel;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed pool of daemon threads for data-parallel loops over index ranges.
 *
 * <p>{@link #parallelFor(int, RangeTask)} splits {@code [0, n)} into one contiguous chunk per
 * thread and blocks until all are done; the calling thread works too. Chunks are claimed from a
 * shared counter, so a worker that is late (descheduled, or still waking up) does not hold the
 * caller up: whoever is free takes the next chunk. Hand-off is low-latency (decode calls this a
 * few hundred times per token): idle workers spin for a short while
 * ({@code -Drudder.spinMicros}, default 200) before parking.
 *
 * <p>An exception thrown by any chunk is rethrown in the caller after all chunks have finished.
 * Calls from several threads are serialised; a call made from inside a running task (nested)
 * runs inline on the calling thread.
 */
public final class WorkerPool implements AutoCloseable {

    /** One chunk of a parallel loop: indices {@code [start, end)}. */
    @FunctionalInterface
    public interface RangeTask {
        void run(int start, int end);
    }

    private static final long SPIN_NANOS = Long.getLong("rudder.spinMicros", 200L) * 1_000L;

    private final int threads;
    private final Worker[] workers;
    private final Object callLock = new Object();
    private volatile Job current;
    private volatile Thread owner;
    private volatile boolean closed;

    /** One parallelFor call: immutable description plus claim/completion counters. */
    private static final class Job {
        final RangeTask task;
        final int n;
        final int grain;
        final int parts;
        final Thread caller;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        volatile boolean callerParked;

        Job(RangeTask task, int n, int grain, int parts, Thread caller) {
            this.task = task;
            this.n = n;
            this.grain = grain;
            this.parts = parts;
            this.caller = caller;
        }

        /** Claims and runs chunks until none is left. */
        void work() {
            int k;
            while ((k = next.getAndIncrement()) < parts) {
                try {
                    int start = boundary(n, grain, k, parts);
                    int end = boundary(n, grain, k + 1, parts);
                    if (start < end) {
                        task.run(start, end);
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    if (done.incrementAndGet() == parts && callerParked) {
                        LockSupport.unpark(caller);
                    }
                }
            }
        }
    }

    public WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Worker[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            Worker w = new Worker();
            w.setName("rudder-worker-" + (i + 1));
            w.setDaemon(true);
            workers[i] = w;
        }
        for (Worker w : workers) {
            w.start();
        }
    }

    /** The number of available processors. */
    public static int defaultThreads() {
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    public int threads() {
        return threads;
    }

    /** Runs {@code task} over {@code [0, n)} split in one contiguous chunk per thread. */
    public void parallelFor(int n, RangeTask task) {
        parallelFor(n, 1, task);
    }

    /**
     * Like {@link #parallelFor(int, RangeTask)}, with chunk boundaries (except the final end
     * {@code n}) multiples of {@code grain}.
     */
    public void parallelFor(int n, int grain, RangeTask task) {
        if (n < 0) {
            throw new IllegalArgumentException("n must be >= 0, got " + n);
        }
        if (grain < 1) {
            throw new IllegalArgumentException("grain must be >= 1, got " + grain);
        }
        if (n == 0) {
            return;
        }
        Thread me = Thread.currentThread();
        if (threads == 1 || n <= grain || me == owner || (me instanceof Worker w && w.pool() == this)) {
            task.run(0, n);
            return;
        }
        if (closed) {
            throw new IllegalStateException("WorkerPool is closed");
        }
        synchronized (callLock) {
            owner = me;
            try {
                runJob(new Job(task, n, grain, threads, me));
            } finally {
                owner = null;
            }
        }
    }

    private void runJob(Job job) {
        current = job;
        for (Worker w : workers) {
            if (w.sleeping) {
                LockSupport.unpark(w);
            }
        }
        job.work();
        if (job.done.get() != job.parts) {
            long deadline = System.nanoTime() + SPIN_NANOS;
            int spins = 0;
            while (job.done.get() != job.parts) {
                if ((++spins & 255) != 0) {
                    Thread.onSpinWait();
                } else if (System.nanoTime() < deadline) {
                    Thread.yield();
                } else {
                    job.callerParked = true;
                    if (job.done.get() != job.parts) {
                        LockSupport.parkNanos(this, 1_000_000L);
                    }
                }
            }
        }
        current = null; // do not retain the task
        Throwable t = job.failure.get();
        if (t != null) {
            if (t instanceof RuntimeException re) {
                throw re;
            }
            if (t instanceof Error e) {
                throw e;
            }
            throw new RuntimeException(t);
        }
    }

    /** Start of chunk {@code k} of {@code parts} over [0,n): a multiple of grain, or n. */
    static int boundary(int n, int grain, int k, int parts) {
        if (k >= parts) {
            return n;
        }
        long units = (n + (long) grain - 1) / grain;
        long b = units * k / parts * grain;
        return (int) Math.min(n, b);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Worker w : workers) {
            LockSupport.unpark(w);
        }
        for (Worker w : workers) {
            try {
                w.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private final class Worker extends Thread {
        volatile boolean sleeping;

        WorkerPool pool() {
            return WorkerPool.this;
        }

        @Override
        public void run() {
            Job seen = null;
            while (!closed) {
                Job job = current;
                if (job == seen || job == null) {
                    long deadline = System.nanoTime() + SPIN_NANOS;
                    int spins = 0;
                    while (((job = current) == seen || job == null) && !closed) {
                        if ((++spins & 255) != 0) {
                            Thread.onSpinWait();
                        } else if (System.nanoTime() < deadline) {
                            Thread.yield();
                        } else {
                            sleeping = true;
                            if (((job = current) == seen || job == null) && !closed) {
                                LockSupport.park(this);
                            }
                            sleeping = false;
                        }
                    }
                    if (job == seen || job == null) {
                        return; // closed
                    }
                }
                seen = job;
                job.work();
            }
        }
    }
}

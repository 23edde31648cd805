package dev.rudder.runtime.parallel;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.*;

class WorkerPoolTest {

    static void coversOnce(WorkerPool pool, int n, int grain) {
        AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(n, 1));
        pool.parallelFor(n, grain, (s, e) -> {
            assertTrue(s <= e && s >= 0 && e <= n);
            if (e != n) {
                assertEquals(0, e % grain, "chunk end " + e + " not a multiple of " + grain);
            }
            for (int i = s; i < e; i++) {
                hits.incrementAndGet(i);
            }
        });
        for (int i = 0; i < n; i++) {
            assertEquals(1, hits.get(i), "index " + i + " n=" + n + " grain=" + grain);
        }
    }

    @Test
    void everyIndexExactlyOnce() {
        for (int threads : new int[] {1, 2, 3}) {
            try (WorkerPool pool = new WorkerPool(threads)) {
                assertEquals(threads, pool.threads());
                for (int n : new int[] {0, 1, 2, 3, 4, 5, 7, 100, 576, 1001}) {
                    for (int grain : new int[] {1, 4, 16}) {
                        coversOnce(pool, n, grain);
                    }
                    AtomicInteger count = new AtomicInteger();
                    pool.parallelFor(n, (s, e) -> count.addAndGet(e - s));
                    assertEquals(n, count.get());
                }
            }
        }
    }

    @Test
    void manyQuickCalls() {
        try (WorkerPool pool = new WorkerPool(3)) {
            for (int rep = 0; rep < 20_000; rep++) {
                AtomicInteger count = new AtomicInteger();
                pool.parallelFor(9, (s, e) -> count.addAndGet(e - s));
                assertEquals(9, count.get());
            }
        }
    }

    @Test
    void usesWorkerThreadsWithNames() {
        try (WorkerPool pool = new WorkerPool(3)) {
            Set<String> names = ConcurrentHashMap.newKeySet();
            java.util.concurrent.CountDownLatch latch = new java.util.concurrent.CountDownLatch(3);
            pool.parallelFor(3, (s, e) -> {
                names.add(Thread.currentThread().getName());
                Thread t = Thread.currentThread();
                if (t.getName().startsWith("rudder-worker-")) {
                    assertTrue(t.isDaemon());
                }
                latch.countDown();
                try {
                    // all three chunks run concurrently
                    assertTrue(latch.await(10, java.util.concurrent.TimeUnit.SECONDS));
                } catch (InterruptedException ex) {
                    throw new RuntimeException(ex);
                }
            });
            assertTrue(names.contains(Thread.currentThread().getName()));
            assertTrue(names.contains("rudder-worker-1"), names.toString());
            assertTrue(names.contains("rudder-worker-2"), names.toString());
        }
    }

    @Test
    void exceptionsPropagate() {
        for (int threads : new int[] {1, 3}) {
            try (WorkerPool pool = new WorkerPool(threads)) {
                for (int bad = 0; bad < 30; bad += 7) {
                    final int b = bad;
                    IllegalStateException ex = assertThrows(IllegalStateException.class, () -> pool.parallelFor(30, (s, e) -> {
                        if (s <= b && b < e) {
                            throw new IllegalStateException("boom " + b);
                        }
                    }));
                    assertEquals("boom " + bad, ex.getMessage());
                    // still usable afterwards
                    coversOnce(pool, 30, 1);
                }
                AssertionError err = assertThrows(AssertionError.class,
                        () -> pool.parallelFor(30, (s, e) -> {
                            if (e == 30) {
                                throw new AssertionError("last");
                            }
                        }));
                assertEquals("last", err.getMessage());
            }
        }
    }

    @Test
    void nestedCallsRunInline() {
        try (WorkerPool pool = new WorkerPool(3)) {
            AtomicInteger count = new AtomicInteger();
            pool.parallelFor(6, (s, e) -> {
                for (int i = s; i < e; i++) {
                    pool.parallelFor(10, (s2, e2) -> count.addAndGet(e2 - s2));
                }
            });
            assertEquals(60, count.get());
        }
    }

    @Test
    void concurrentCallersAreSerialised() throws Exception {
        try (WorkerPool pool = new WorkerPool(2)) {
            AtomicInteger count = new AtomicInteger();
            Thread[] ts = new Thread[3];
            for (int t = 0; t < ts.length; t++) {
                ts[t] = new Thread(() -> {
                    for (int i = 0; i < 2000; i++) {
                        pool.parallelFor(10, (s, e) -> count.addAndGet(e - s));
                    }
                });
                ts[t].start();
            }
            for (Thread t : ts) {
                t.join();
            }
            assertEquals(3 * 2000 * 10, count.get());
        }
    }

    @Test
    void badArguments() {
        assertThrows(IllegalArgumentException.class, () -> new WorkerPool(0));
        try (WorkerPool pool = new WorkerPool(2)) {
            assertThrows(IllegalArgumentException.class, () -> pool.parallelFor(-1, (s, e) -> { }));
            assertThrows(IllegalArgumentException.class, () -> pool.parallelFor(4, 0, (s, e) -> { }));
        }
        assertTrue(WorkerPool.defaultThreads() >= 1);
    }

    @Test
    void boundaries() {
        assertEquals(0, WorkerPool.boundary(10, 4, 0, 3));
        assertEquals(10, WorkerPool.boundary(10, 4, 3, 3));
        for (int n = 1; n < 50; n++) {
            for (int parts = 1; parts < 5; parts++) {
                int prev = 0;
                for (int k = 0; k <= parts; k++) {
                    int b = WorkerPool.boundary(n, 3, k, parts);
                    assertTrue(b >= prev && b <= n);
                    prev = b;
                }
                assertEquals(n, prev);
            }
        }
    }
}

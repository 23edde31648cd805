package dev.rudder.cli;

import dev.rudder.runtime.kernel.Kernels;
import dev.rudder.runtime.tensor.BF16Matrix;
import dev.rudder.runtime.tensor.WeightMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Gets the Vector API kernels compiled by C2 before a one-shot command's prompt runs. Until C2
 * has compiled them every vector operation allocates and runs ~50x slower, and a cold prefill
 * spends seconds there. A daemon thread calls the hot kernels (BF16 matmul and matvec, rmsnorm,
 * residual add, attention's dot/softmax/axpy, rope, SwiGLU) on small synthetic buffers while the
 * main thread parses the options, maps the model and loads the tokenizer, so the JIT has them queued
 * or compiled when the real prompt arrives. It shares no state with the model: outputs do not
 * change (the kernels avoid JIT-dependent operations, see the determinism tests). Bounded by
 * rounds and time, so a long run pays at most that once. {@code -Drudder.warmup=false} turns it off.
 */
final class KernelWarmup {
    private static final int ROUNDS = 300;
    private static final long MAX_NANOS = 2_000_000_000L;
    private static final int HIDDEN = 576;     // the SmolLM2-135M widths
    private static final int FFN = 576;
    private static final int HEAD_DIM = 64;
    private static final int ROWS = 16;        // matrix rows: small, so the interpreted calls before C2 cost little
    private static final int BATCH = 8;        // prefill rows per matmul
    private static final int SEQ = 64;         // attention span

    private KernelWarmup() {
    }

    /**
     * Starts the warm-up thread for the verbs that run a prompt once, unless turned off; returns at
     * once, true when it started one.
     */
    static boolean startFor(String[] args) {
        boolean oneShot = args.length > 0 && (args[0].equals("generate") || args[0].equals("chat"));
        if (!oneShot || !Boolean.parseBoolean(System.getProperty("rudder.warmup", "true"))) {
            return false;
        }
        Thread t = new Thread(KernelWarmup::runQuietly, "rudder-kernel-warmup");
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
        return true;
    }

    private static void runQuietly() {
        try {
            run(ROUNDS, MAX_NANOS);
        } catch (RuntimeException | LinkageError e) {
            // a warm-up that fails costs only speed: the real command reports its own errors
        }
    }

    /** Calls every warmed kernel {@code rounds} times or until {@code maxNanos} have passed; returns the rounds run. */
    static int run(int rounds, long maxNanos) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment w = arena.allocate((long) ROWS * HIDDEN * Short.BYTES, 64); // [ROWS, HIDDEN] bf16
            for (long i = 0; i < (long) ROWS * HIDDEN; i++) {
                w.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) (0x3c00 + (i * 31 % 255))); // small positive bf16
            }
            WeightMatrix m = new BF16Matrix(w, ROWS, HIDDEN);
            Kernels k = Kernels.get();
            float[] x = pattern(BATCH * HIDDEN);        // [BATCH, HIDDEN]
            float[] out = new float[BATCH * ROWS];      // [BATCH, ROWS]
            float[] norm = pattern(HIDDEN);             // [HIDDEN]
            float[] h = new float[HIDDEN];              // [HIDDEN]
            float[] gate = pattern(FFN);                // [FFN]
            float[] up = pattern(FFN);                  // [FFN]
            float[] keys = pattern(SEQ * HEAD_DIM);     // [SEQ, HEAD_DIM]
            float[] scores = new float[SEQ];            // [SEQ]
            float[] acc = new float[HEAD_DIM];          // [HEAD_DIM]
            float[] cos = pattern(HEAD_DIM / 2);        // [HEAD_DIM / 2]
            float[] sin = pattern(HEAD_DIM / 2);        // [HEAD_DIM / 2]
            long end = System.nanoTime() + maxNanos;
            int r = 0;
            for (; r < rounds && System.nanoTime() < end; r++) {
                m.matmul(x, BATCH, out, ROWS, 0, ROWS);
                m.matvec(x, 0, out, 0, 0, ROWS);
                k.rmsnorm(h, 0, x, 0, norm, HIDDEN, 1e-5f);
                k.residualAdd(h, 0, x, HIDDEN, null, 0f, null, HIDDEN);
                k.swiglu(gate, 0, up, 0, FFN);
                k.rope(keys, 0, HEAD_DIM, cos, sin);
                for (int t = 0; t < SEQ; t++) {
                    scores[t] = k.dot(acc, 0, keys, t * HEAD_DIM, HEAD_DIM) * 0.125f;
                }
                k.softmax(scores, 0, SEQ);
                for (int t = 0; t < SEQ; t++) {
                    k.axpy(scores[t], keys, t * HEAD_DIM, acc, 0, HEAD_DIM);
                }
            }
            return r;
        }
    }

    private static float[] pattern(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = ((i * 37) % 101 - 50) / 200f;
        }
        return a;
    }
}

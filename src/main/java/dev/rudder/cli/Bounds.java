package dev.rudder.cli;

import dev.rudder.errors.UsageException;
import dev.rudder.runtime.io.ModelConfig;

import java.io.PrintStream;

/**
 * Range checks for the numeric options every verb shares (--threads, --context, -n): values
 * outside what the model and the machine can take are usage errors (exit 2) or are capped with a
 * warning, before anything is allocated.
 */
final class Bounds {
    /** Threads beyond this multiple of the processors only add contention (and a million threads hang). */
    static final int THREADS_PER_PROCESSOR = 4;

    private Bounds() {
    }

    /** {@code --threads}: at least 1; more than {@link #THREADS_PER_PROCESSOR} x processors is capped with a warning. */
    static int threads(int requested, int processors, PrintStream err) {
        if (requested < 1) {
            throw new UsageException("--threads must be at least 1, got " + requested);
        }
        int cap = THREADS_PER_PROCESSOR * Math.max(1, processors);
        if (requested > cap) {
            err.println("rudder: warning: --threads " + requested + " is more than " + THREADS_PER_PROCESSOR + " x the "
                    + processors + " processors; using " + cap);
            return cap;
        }
        return requested;
    }

    /**
     * {@code --context}: null means the verb's default; otherwise between 1 and the model's
     * {@code max_position_embeddings} (when the config gives one).
     */
    static Integer context(Integer requested, ModelConfig cfg) {
        if (requested == null) {
            return null;
        }
        int max = cfg.maxPositionEmbeddings();
        if (requested < 1) {
            throw new UsageException("--context must be at least 1, got " + requested);
        }
        if (max > 0 && requested > max) {
            throw new UsageException("--context " + requested + " is more than the model's maximum of " + max
                    + " tokens (max_position_embeddings)");
        }
        return requested;
    }

    /** {@code -n}: not negative. (More than the context leaves stops when the context is full.) */
    static int maxTokens(int n) {
        if (n < 0) {
            throw new UsageException("-n/--max-tokens must be at least 0, got " + n);
        }
        return n;
    }
}

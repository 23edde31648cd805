package dev.rudder.cli;

import dev.rudder.runtime.generate.Generator;

import java.io.PrintStream;
import java.util.Locale;

/** The closing statistics line on stderr. */
final class Stats {
    private Stats() {
    }

    static void print(Generator.Result r, PrintStream err) {
        print(r, 0, err);
    }

    /** With the time the command waited for the JIT's warm-up before the prompt ({@link KernelWarmup}), if any. */
    static void print(Generator.Result r, long warmupWaitNanos, PrintStream err) {
        print(r, -1, warmupWaitNanos, err);
    }

    /**
     * With the time loading the model and its tokenizer took ({@code loadNanos} >= 0; llama.cpp prints its load time
     * too), and the time the command waited for the JIT's warm-up before the prompt ({@link KernelWarmup}), if any.
     */
    static void print(Generator.Result r, long loadNanos, long warmupWaitNanos, PrintStream err) {
        err.printf(Locale.ROOT, "prompt tokens: %d, generated tokens: %d, %sprefill: %.1f tok/s, decode: %.1f tok/s%s%n",
                r.promptTokens(), r.tokens().size(),
                loadNanos >= 0 ? String.format(Locale.ROOT, "load: %.2f s, ", loadNanos / 1e9) : "",
                r.prefillTokensPerSecond(), r.decodeTokensPerSecond(),
                warmupWaitNanos >= 5_000_000L ? String.format(Locale.ROOT, " (after %.2f s waiting for the JIT warm-up)",
                        warmupWaitNanos / 1e9) : "");
    }
}

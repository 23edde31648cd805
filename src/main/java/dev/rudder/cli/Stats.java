package dev.rudder.cli;

import dev.rudder.runtime.generate.Generator;

import java.io.PrintStream;
import java.util.Locale;

/** The closing statistics line on stderr. */
final class Stats {
    private Stats() {
    }

    static void print(Generator.Result r, PrintStream err) {
        err.printf(Locale.ROOT, "prompt tokens: %d, generated tokens: %d, prefill: %.1f tok/s, decode: %.1f tok/s%n",
                r.promptTokens(), r.tokens().size(), r.prefillTokensPerSecond(), r.decodeTokensPerSecond());
    }
}

package dev.rudder.tokenizer.jinja;

/**
 * What one render (or parse) of a template has used of its {@link Limits}: steps and nesting
 * depth. Every check throws a {@link JinjaException} that names the limit, so a caller can tell
 * the user which bound a template broke. Not thread-safe: one per render.
 */
final class Budget {
    final Limits limits;
    private long steps;
    private int depth;

    Budget(Limits limits) {
        this.limits = limits;
    }

    /** One statement or expression evaluated. */
    void step() {
        if (++steps > limits.maxSteps()) {
            throw exceeded("evaluation steps", limits.maxSteps(), "a loop that runs too long");
        }
    }

    /** Entering a nested statement, expression or macro call; pair with {@link #leave()}. */
    void enter() {
        if (++depth > limits.maxDepth()) {
            depth = 0;   // the error unwinds every level
            throw exceeded("nesting depth", limits.maxDepth(), "nested blocks, expressions or recursive macros");
        }
    }

    void leave() {
        depth--;
    }

    /** A string of {@code length} characters is about to be built. */
    void checkString(long length, String what) {
        if (length > limits.maxStringChars()) {
            throw exceeded("string length", limits.maxStringChars(), what + " of " + length + " characters");
        }
    }

    /** A list of {@code size} items is about to be built. */
    void checkItems(long size, String what) {
        if (size > limits.maxItems()) {
            throw exceeded("list length", limits.maxItems(), what + " of " + size + " items");
        }
    }

    /** A {@code range()} of {@code size} items. */
    void checkRange(long size) {
        if (size > limits.maxRange()) {
            throw exceeded("range size", limits.maxRange(), "range() of " + size + " items");
        }
    }

    static JinjaException exceeded(String limit, long max, String what) {
        return new JinjaException("template exceeds the sandbox limit on " + limit + " (" + max + "): " + what);
    }
}

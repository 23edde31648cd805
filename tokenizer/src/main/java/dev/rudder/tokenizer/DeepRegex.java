package dev.rudder.tokenizer;

import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Runs {@code java.util.regex} work that may need a deep stack. The JDK's backtracking engine
 * recurses once per repetition of a group ({@code (?:a|b)*} on 200,000 characters is 200,000
 * nested calls), which overflows the stack of an ordinary thread. The work is tried on the
 * caller's thread first (the common, cheap case); only when that overflows is it rerun once on a
 * fresh thread whose stack is sized for the input (thread stacks are reserved, not committed, so
 * a large one costs little). If even that overflows, the error says which pattern and input
 * length, instead of a {@link StackOverflowError}.
 */
final class DeepRegex {
    /** Stack reserved per input character on the retry thread (measured: ~1.5 KB per repetition). */
    private static final long STACK_PER_CHAR = 4096;
    private static final long MIN_STACK = 64L << 20;
    /** Beyond this the input is refused rather than given more stack. */
    static final long MAX_STACK = 4L << 30;

    /** Character reads a match may make per input character before it counts as catastrophic backtracking. */
    static final long READS_PER_CHAR = 2000;
    private static final long MIN_READS = 1_000_000;

    private DeepRegex() {
    }

    /**
     * {@code text} as a CharSequence that counts the reads a matcher makes and stops a pattern that
     * backtracks catastrophically (e.g. {@code (a+)+$} on "aaaa...b", exponential time) with a clear
     * error instead of hanging: java.util.regex has no time limit of its own. Deterministic (a read
     * count, not a clock).
     */
    static CharSequence bounded(String text, String what) {
        return new Bounded(text, 0, text.length(), new long[]{Math.max(MIN_READS, READS_PER_CHAR * text.length())}, what);
    }

    private record Bounded(String text, int from, int to, long[] readsLeft, String what) implements CharSequence {
        @Override
        public int length() {
            return to - from;
        }

        @Override
        public char charAt(int index) {
            if (--readsLeft[0] < 0) {
                throw new TokenizerException(what + " backtracks too much on an input of " + text.length()
                        + " characters (more than " + READS_PER_CHAR + " reads per character): the pattern is"
                        + " catastrophic for this text");
            }
            return text.charAt(from + index);
        }

        @Override
        public CharSequence subSequence(int start, int end) {
            return new Bounded(text, from + start, from + end, readsLeft, what);
        }

        @Override
        public String toString() {
            return text.substring(from, to);
        }
    }

    /**
     * Runs {@code work} (which must be safe to run twice: no side effects before it returns) on an
     * input of {@code inputLength} chars.
     *
     * @param what names the pattern and where it was configured, for the error message
     */
    static <T> T run(Supplier<T> work, int inputLength, String what) {
        try {
            return work.get();
        } catch (StackOverflowError first) {
            return onLargeStack(work, inputLength, what);
        }
    }

    private static <T> T onLargeStack(Supplier<T> work, int inputLength, String what) {
        long stack = Math.max(MIN_STACK, inputLength * STACK_PER_CHAR);
        if (stack > MAX_STACK) {
            throw tooDeep(inputLength, what);
        }
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(null, () -> {
            try {
                result.set(work.get());
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "rudder-deep-regex", stack);
        t.start();
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TokenizerException("interrupted while matching " + what, e);
        }
        Throwable f = failure.get();
        if (f instanceof StackOverflowError) {
            throw tooDeep(inputLength, what);
        }
        if (f instanceof RuntimeException re) {
            throw re;
        }
        if (f instanceof Error err) {
            throw err;
        }
        return result.get();
    }

    private static TokenizerException tooDeep(int inputLength, String what) {
        return new TokenizerException(what + " needs more stack than allowed (" + (MAX_STACK >> 20)
                + " MiB) to match an input of " + inputLength + " characters: java.util.regex recurses per repeated"
                + " group; split the input into smaller pieces");
    }
}

package dev.rudder.runtime.model;

import java.util.Arrays;

/**
 * Splits a prompt into parts for chunked prefill ({@link Session#prefillPart} then
 * {@link Session#prefill}) so that the result is bit for bit the whole prompt in one call.
 * Prompt rows go through matrix-matrix products whose per-output order does not depend on the
 * number of rows from {@link #MIN_ROWS} rows on; fewer rows take the matrix-vector path, which
 * rounds differently. So every part has at least {@code MIN_ROWS} tokens: a shorter remainder
 * joins the part before it. ({@code PromptPartsTest} checks the claim on every weight dtype.)
 */
public final class PromptParts {
    /** Fewest rows that take the matrix-matrix path ({@code SegmentMatrix.matmul}). */
    public static final int MIN_ROWS = 4;

    private PromptParts() {
    }

    /**
     * Part lengths for a prompt of {@code length} tokens in parts of about {@code chunk} tokens:
     * each {@code c = max(chunk, MIN_ROWS)} long, then the remainder as a last part when it has
     * at least {@code MIN_ROWS} tokens, else added to the last full part; one part when the
     * prompt is shorter than {@code c}.
     */
    public static int[] sizes(int length, int chunk) {
        if (length < 1 || chunk < 1) {
            throw new IllegalArgumentException("prompt length and chunk must be at least 1, got " + length + " and " + chunk);
        }
        int c = Math.max(chunk, MIN_ROWS);
        int full = length / c;
        int rem = length % c;
        if (full == 0) {
            return new int[]{length};
        }
        boolean own = rem >= MIN_ROWS;           // a remainder long enough stands on its own
        int[] sizes = new int[own ? full + 1 : full];
        Arrays.fill(sizes, c);
        if (own) {
            sizes[full] = rem;
        } else {
            sizes[full - 1] += rem;              // a short one joins the last full part
        }
        return sizes;
    }
}

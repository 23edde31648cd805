package dev.rudder.runtime.cuda;

/**
 * How the attention kernel spreads the KV length: {@code splits} warps per (row, head), each row's
 * span cut into that many runs of ceil(span / splits) entries (the kernel cuts each row's own).
 * Decode has few (row, head) pairs, so it splits the KV length until the GPU has several warps per
 * SM; prefill has plenty and does not split. The count is chosen for the span rounded up to a power
 * of two, so that consecutive decode steps launch alike (and replay as one CUDA graph) until the
 * span passes the next power of two: at most ceil(that / {@link #MIN_KEYS}) splits, and at most
 * {@link CudaActivations#MAX_SPLITS}.
 */
record AttentionSplit(int splits) {
    static final int MIN_KEYS = 8;
    static final int WARPS_PER_SM = 16;

    /**
     * Partial results {@link #choose} may ask for at most: {@code pairs * splits}. Splitting happens
     * only when {@code pairs < wanted}, and then {@code pairs * splits < wanted + pairs < 2 wanted}.
     */
    static int maxPartials(int multiprocessors) {
        return 2 * WARPS_PER_SM * Math.max(1, multiprocessors);
    }

    /** For {@code pairs} (row, head) pairs attending to at most {@code span} entries each. */
    static AttentionSplit choose(int pairs, int span, int multiprocessors) {
        long wanted = (long) WARPS_PER_SM * Math.max(1, multiprocessors);
        int bucket = span <= 1 ? 1 : Integer.highestOneBit(span - 1) << 1;   // the power of two >= span
        int splits = (int) Math.min(CudaActivations.MAX_SPLITS, Math.max(1, (wanted + pairs - 1) / pairs));
        return new AttentionSplit(Math.min(splits, Math.max(1, (bucket + MIN_KEYS - 1) / MIN_KEYS)));
    }

    /** Entries per split of a row attending to {@code span} entries (the kernel's cut). */
    int length(int span) {
        return (span + splits - 1) / splits;
    }
}

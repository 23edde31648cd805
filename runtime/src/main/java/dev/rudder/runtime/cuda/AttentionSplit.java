package dev.rudder.runtime.cuda;

/**
 * How the attention kernel spreads the KV length: {@code splits} warps per (row, head), each
 * over {@code length} consecutive cache entries. Decode has few (row, head) pairs, so it splits
 * the KV length until the GPU has several warps per SM; prefill has plenty and does not split.
 * There are at most ceil(span / {@link #MIN_KEYS}) splits (short spans are not worth splitting) and at most
 * {@link CudaActivations#MAX_SPLITS}.
 */
record AttentionSplit(int splits, int length) {
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
        int splits = (int) Math.min(CudaActivations.MAX_SPLITS, Math.max(1, (wanted + pairs - 1) / pairs));
        splits = Math.min(splits, Math.max(1, (span + MIN_KEYS - 1) / MIN_KEYS));
        int length = (span + splits - 1) / splits;
        splits = (span + length - 1) / length;   // no empty trailing split
        return new AttentionSplit(splits, length);
    }
}

package dev.rudder.runtime.sample;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks next tokens from logits according to {@link SamplerOptions}. Deterministic: the same
 * options (seed included) and the same logits give the same tokens. One sampler per request.
 */
public final class Sampler {
    private final SamplerOptions opt;
    private final SplittableRandom random;
    private final boolean[] seen;
    private float[] work;
    private long[] keys;      // [vocab] sort keys for the full-vocabulary order

    public Sampler(SamplerOptions options, int vocabSize) {
        this.opt = options;
        this.random = new SplittableRandom(options.seed());
        this.seen = new boolean[vocabSize];
    }

    /** Records tokens (prompt or generated) for the repetition penalty. */
    public void observe(int token) {
        if (token >= 0 && token < seen.length) {
            seen[token] = true;
        }
    }

    /** Chooses the next token; {@code logits} is not modified. */
    public int sample(float[] logits) {
        int n = logits.length;
        if (work == null || work.length != n) {
            work = new float[n];
        }
        float[] l = work;
        System.arraycopy(logits, 0, l, 0, n);
        if (opt.repetitionPenalty() != 1f) {
            float p = opt.repetitionPenalty();
            for (int i = 0; i < n && i < seen.length; i++) {
                if (seen[i]) {
                    l[i] = l[i] > 0 ? l[i] / p : l[i] * p;
                }
            }
        }
        if (opt.greedy()) {
            return argmax(l);
        }
        // candidates sorted by logit, descending (ties by id for determinism)
        int m = n;
        if (opt.topK() > 0 && opt.topK() < n) {
            m = opt.topK();
        }
        int[] idx = topIndices(l, m);
        double[] probs = new double[idx.length];
        double max = l[idx[0]];
        double sum = 0;
        for (int i = 0; i < idx.length; i++) {
            probs[i] = Math.exp((l[idx[i]] - max) / opt.temperature());
            sum += probs[i];
        }
        for (int i = 0; i < idx.length; i++) {
            probs[i] /= sum;
        }
        int keep = idx.length;
        if (opt.topP() < 1f) {
            double cum = 0;
            for (int i = 0; i < idx.length; i++) {
                cum += probs[i];
                if (cum >= opt.topP()) {
                    keep = i + 1;
                    break;
                }
            }
        }
        if (opt.minP() > 0f) {
            double threshold = opt.minP() * probs[0];
            int k = 1;
            while (k < keep && probs[k] >= threshold) {
                k++;
            }
            keep = k;
        }
        double total = 0;
        for (int i = 0; i < keep; i++) {
            total += probs[i];
        }
        double r = random.nextDouble() * total;
        double acc = 0;
        for (int i = 0; i < keep; i++) {
            acc += probs[i];
            if (r < acc) {
                return idx[i];
            }
        }
        return idx[keep - 1];
    }

    public static int argmax(float[] l) {
        int best = 0;
        for (int i = 1; i < l.length; i++) {
            if (l[i] > l[best]) {
                best = i;
            }
        }
        return best;
    }

    /**
     * Every index, by logit descending, ties by lower index (Float.compare order, except that -0 and +0 tie, as the
     * comparator this replaced had it).
     * Sorts primitive keys (order-preserving float bits above the index) instead of boxed
     * indices with a comparator: ~10x faster on a 50k vocabulary, the same order.
     */
    int[] sortedByLogit(float[] l) {
        int n = l.length;
        if (keys == null || keys.length != n) {
            keys = new long[n];
        }
        for (int i = 0; i < n; i++) {
            int b = Float.floatToIntBits(l[i] + 0f);            // -0 + 0 = +0: the zeros tie, as with ==
            int ascending = b ^ ((b >> 31) & 0x7fffffff);   // signed order = Float.compare order
            keys[i] = ((long) ~ascending << 32) | i;           // descending logit, then ascending index
        }
        Arrays.sort(keys);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = (int) keys[i];
        }
        return out;
    }

    /** Indices of the m largest values, descending, ties broken by lower index. */
    private int[] topIndices(float[] l, int m) {
        int n = l.length;
        if (m == n) {
            return sortedByLogit(l);
        }
        // partial selection for small k: keep a sorted buffer
        int[] out = new int[m];
        int filled = 0;
        for (int i = 0; i < n; i++) {
            float v = l[i];
            if (filled == m && !(v > l[out[m - 1]])) {
                continue;
            }
            int j = filled < m ? filled++ : m - 1;
            while (j > 0 && v > l[out[j - 1]]) {
                out[j] = out[j - 1];
                j--;
            }
            out[j] = i;
        }
        return out;
    }
}

package dev.rudder.server;

import dev.rudder.tokenizer.Tokenizer;

import java.util.HashMap;
import java.util.Map;

/**
 * The model's log-probability of one generated token and of its {@code top} likeliest alternatives (OpenAI's
 * {@code logprobs}/{@code top_logprobs}): the log-softmax of the raw logits, before temperature, penalties and
 * top-k/top-p/min-p (as vLLM's default), so the figures describe the model whatever the sampling settings.
 * Alternatives are in descending order, ties by lower id. {@code text} is how the token reads inside a text. A
 * prompt's first token has no log-probability ({@link #first}: NaN, no alternatives).
 */
record TokenLogprob(String text, double logprob, Alternative[] top) {

    /** The entry of a prompt's first token, which nothing predicts. */
    static TokenLogprob first(int id, Texts texts) {
        return new TokenLogprob(texts.of(id), Double.NaN, null);
    }

    /** One of the likeliest tokens at this position. */
    record Alternative(String text, double logprob) {
    }

    /** Most alternatives a request may ask for (OpenAI's limit for {@code top_logprobs}). */
    static final int MAX_TOP = 20;

    /**
     * {@code chosen}'s entry from {@code logits} (all finite, as the scheduler checks first), with the {@code top}
     * likeliest tokens, their texts from {@code texts}.
     */
    static TokenLogprob of(float[] logits, int chosen, int top, Texts texts) {
        float max = Float.NEGATIVE_INFINITY;
        for (float l : logits) {
            max = Math.max(max, l);
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp((double) l - max);
        }
        double logZ = max + Math.log(sum);   // log of the softmax's normaliser
        int[] ids = topIds(logits, Math.min(top, logits.length));
        Alternative[] alts = new Alternative[ids.length];
        for (int i = 0; i < ids.length; i++) {
            alts[i] = new Alternative(texts.of(ids[i]), logits[ids[i]] - logZ);
        }
        return new TokenLogprob(texts.of(chosen), logits[chosen] - logZ, alts);
    }

    /** The ids of the k largest logits, largest first; equal logits keep the lower id first. */
    static int[] topIds(float[] logits, int k) {
        int[] ids = new int[k];
        int filled = 0;
        for (int i = 0; i < logits.length && k > 0; i++) {
            float v = logits[i];
            if (filled == k && v <= logits[ids[k - 1]]) {
                continue;
            }
            int j = filled < k ? filled++ : k - 1;
            while (j > 0 && logits[ids[j - 1]] < v) {
                ids[j] = ids[j - 1];
                j--;
            }
            ids[j] = i;
        }
        return ids;
    }

    /**
     * Token texts as they read inside a text: a token decoded alone loses what decoders strip at the start of a
     * text (SentencePiece's leading space), so the text is what the token adds after a copy of itself. Cached per
     * id (at most the vocabulary); scheduler thread only.
     */
    static final class Texts {
        private final Tokenizer tokenizer;   // null: the model has no tokenizer, texts are empty
        private final Map<Integer, String> cache = new HashMap<>();

        Texts(Tokenizer tokenizer) {
            this.tokenizer = tokenizer;
        }

        String of(int id) {
            if (tokenizer == null) {
                return "";
            }
            return cache.computeIfAbsent(id, i -> {
                String alone = tokenizer.decode(new int[] {i}, false);
                String twice = tokenizer.decode(new int[] {i, i}, false);
                return twice.startsWith(alone) && twice.length() > alone.length() ? twice.substring(alone.length()) : alone;
            });
        }
    }
}

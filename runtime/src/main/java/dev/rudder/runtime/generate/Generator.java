package dev.rudder.runtime.generate;

import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.PromptParts;
import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.sample.Sampler;
import dev.rudder.runtime.sample.SamplerOptions;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.IntConsumer;
import java.util.function.IntPredicate;

/**
 * The generation loop: prefill the prompt, then sample and decode one token at a time until a
 * stop token, the token budget or the context runs out. Each chosen token goes to a listener
 * as soon as it exists (streaming); the listener can stop generation by returning false.
 */
public final class Generator {

    /** Why generation ended. */
    public enum StopReason { STOP_TOKEN, MAX_TOKENS, CONTEXT_FULL, LISTENER }

    public record Result(List<Integer> tokens, int promptTokens, long prefillNanos, long decodeNanos,
                         StopReason stopReason) {
        /** Prompt tokens per second of prefill. */
        public double prefillTokensPerSecond() {
            return prefillNanos == 0 ? 0 : promptTokens * 1e9 / prefillNanos;
        }

        /** Generated tokens per second, counting the decode steps (the first token comes from prefill). */
        public double decodeTokensPerSecond() {
            int steps = Math.max(0, tokens.size() - 1);
            return decodeNanos == 0 ? 0 : steps * 1e9 / decodeNanos;
        }
    }

    /** Prompt tokens per part when prefill progress is reported. */
    public static final int PROGRESS_CHUNK = 256;

    private Generator() {
    }

    private static float[] prefill(Session session, PromptInput prompt, IntConsumer progress) {
        if (progress == null || prompt.length() <= PROGRESS_CHUNK) {
            float[] logits = session.prefill(prompt);
            if (progress != null) {
                progress.accept(prompt.length());
            }
            return logits;
        }
        int[] parts = PromptParts.sizes(prompt.length(), PROGRESS_CHUNK);
        int done = 0;
        for (int i = 0; i < parts.length - 1; i++) {
            session.prefillPart(prompt.slice(done, done + parts[i]));
            done += parts[i];
            progress.accept(done);
        }
        float[] logits = session.prefill(prompt.slice(done, prompt.length()));
        progress.accept(prompt.length());
        return logits;
    }

    /**
     * Generates up to {@code maxTokens} tokens after {@code prompt}. A stop token is included in
     * the result but ends generation.
     */
    public static Result generate(Session session, PromptInput prompt, SamplerOptions options, int maxTokens,
                                  Set<Integer> stopTokens, IntPredicate listener) {
        return generate(session, prompt, options, maxTokens, stopTokens, listener, null);
    }

    /**
     * As above; with a {@code prefillProgress}, a prompt longer than {@link #PROGRESS_CHUNK} tokens is prefilled in
     * parts ({@link PromptParts}: the same logits, KV cache and gate bit for bit) and the count of prompt tokens done
     * goes to it after each part, then the total. A gated plan that steers prompt positions holds its parts until the
     * last one, so its count jumps to the end.
     */
    public static Result generate(Session session, PromptInput prompt, SamplerOptions options, int maxTokens,
                                  Set<Integer> stopTokens, IntPredicate listener, IntConsumer prefillProgress) {
        Sampler sampler = new Sampler(options, session.model().config().vocabSize());
        for (int id : prompt.tokenIds()) {
            sampler.observe(id);
        }
        List<Integer> out = new ArrayList<>();
        long t0 = System.nanoTime();
        float[] logits = prefill(session, prompt, prefillProgress);
        NonFiniteLogits.checkPrefill(logits, session, prompt);
        long t1 = System.nanoTime();
        StopReason reason = StopReason.MAX_TOKENS;
        while (out.size() < maxTokens) {
            int next = sampler.sample(logits);
            out.add(next);
            sampler.observe(next);
            if (!listener.test(next)) {
                reason = StopReason.LISTENER;
                break;
            }
            if (stopTokens.contains(next)) {
                reason = StopReason.STOP_TOKEN;
                break;
            }
            if (out.size() >= maxTokens) {
                break;
            }
            if (session.position() >= session.contextLength()) {
                reason = StopReason.CONTEXT_FULL;
                break;
            }
            logits = session.decode(next);
            NonFiniteLogits.checkDecode(logits, out.size());
        }
        long t2 = System.nanoTime();
        return new Result(out, prompt.length(), t1 - t0, t2 - t1, reason);
    }
}

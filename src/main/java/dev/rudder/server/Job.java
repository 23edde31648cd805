package dev.rudder.server;

import dev.rudder.runtime.sample.SamplerOptions;

import java.util.List;

/**
 * One generation the scheduler runs: the prompt as token ids, how to sample, at most
 * {@code maxTokens} new tokens, whether the model's end-of-sequence tokens end it, OpenAI stop
 * strings, the steering profile, the KV-cache length ({@code prompt.length + maxTokens} at most),
 * the {@link System#nanoTime()} by which it must be done, how many alternatives each generated
 * token's log-probability comes with ({@code -1}: no log-probabilities), and whether the prompt's
 * tokens get theirs too (echo; the prompt then runs in one pass of its own), and the logit bias
 * applied before sampling. {@code maxTokens} 0: only the prompt runs.
 */
record Job(int[] prompt, SamplerOptions sampling, int maxTokens, boolean ignoreEos, List<String> stop,
           SteeringProfiles.Profile profile, int contextLength, long deadlineNanos, int logprobs, boolean promptLogprobs,
           LogitBias logitBias) {
}

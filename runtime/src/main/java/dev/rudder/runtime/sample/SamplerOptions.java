package dev.rudder.runtime.sample;

import dev.rudder.runtime.BadInputException;

/**
 * How the next token is chosen. {@code temperature == 0} is greedy (argmax). Otherwise the
 * filters apply in the order of Hugging Face / llama.cpp samplers: repetition penalty, top-k,
 * temperature, top-p, min-p; then a draw from the seeded generator.
 *
 * @param topK 0 = off
 * @param topP 1 = off
 * @param minP 0 = off
 * @param repetitionPenalty 1 = off; logits of already-seen tokens are divided (if positive) or
 *                          multiplied (if negative) by it, as in the CTRL paper and HF
 */
public record SamplerOptions(float temperature, int topK, float topP, float minP, float repetitionPenalty, long seed) {

    public static final SamplerOptions GREEDY = new SamplerOptions(0f, 0, 1f, 0f, 1f, 0L);

    public SamplerOptions {
        if (!(temperature >= 0f) || Float.isInfinite(temperature)) {
            throw new BadInputException("--temperature must be >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new BadInputException("--top-k must be >= 0, got " + topK);
        }
        if (!(topP > 0f && topP <= 1f)) {
            throw new BadInputException("--top-p must be in (0, 1], got " + topP);
        }
        if (!(minP >= 0f && minP <= 1f)) {
            throw new BadInputException("--min-p must be in [0, 1], got " + minP);
        }
        if (!(repetitionPenalty > 0f) || Float.isInfinite(repetitionPenalty)) {
            throw new BadInputException("--repetition-penalty must be > 0, got " + repetitionPenalty);
        }
    }

    public boolean greedy() {
        return temperature == 0f;
    }
}

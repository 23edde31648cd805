package dev.rudder;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.sample.SamplerOptions;
import dev.rudder.runtime.steer.SteeringPlan;

/**
 * What to generate: the prompt (token ids and/or embedding rows), how to sample, how many
 * tokens at most, the steering plan, and the context length (0 = prompt + maxTokens, capped by
 * the model's maximum). {@code stopAtEos} ends generation at the model's end-of-sequence tokens.
 */
public record GenerationRequest(PromptInput prompt, SamplerOptions sampling, int maxTokens, SteeringPlan plan,
                                int contextLength, boolean stopAtEos) {
    public GenerationRequest {
        if (maxTokens < 0) {
            throw new BadInputException("--max-tokens must be >= 0, got " + maxTokens);
        }
        if (sampling == null) {
            sampling = SamplerOptions.GREEDY;
        }
        if (plan == null) {
            plan = SteeringPlan.NONE;
        }
    }

    public static GenerationRequest of(PromptInput prompt, int maxTokens) {
        return new GenerationRequest(prompt, SamplerOptions.GREEDY, maxTokens, SteeringPlan.NONE, 0, true);
    }

    public GenerationRequest withPlan(SteeringPlan p) {
        return new GenerationRequest(prompt, sampling, maxTokens, p, contextLength, stopAtEos);
    }

    public GenerationRequest withSampling(SamplerOptions s) {
        return new GenerationRequest(prompt, s, maxTokens, plan, contextLength, stopAtEos);
    }
}

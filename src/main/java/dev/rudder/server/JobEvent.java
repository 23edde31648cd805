package dev.rudder.server;

import java.util.List;

/** What a running job reports to the request that submitted it, in order: text pieces, then one end. */
sealed interface JobEvent {
    /**
     * Generated text, safe to show (never part of a stop string), and the log-probabilities of the tokens sampled
     * since the previous text event when the request asked for them (else empty). A token whose text is held back
     * (an unfinished character, a possible stop string) has its entry sent with the text that releases it.
     */
    record Text(String text, List<TokenLogprob> logprobs) implements JobEvent {
    }

    /**
     * The log-probabilities of the prompt's tokens (echo with logprobs), before any text: the first token has none
     * (NaN, no alternatives), each later one its entry from the logits at the position before it.
     */
    record PromptLogprobs(List<TokenLogprob> logprobs) implements JobEvent {
    }

    /** The job ended normally. {@code gateOpen}/{@code gateScore} are null when the profile has no gate. */
    record Done(FinishReason reason, int promptTokens, int completionTokens, Boolean gateOpen, Double gateScore)
            implements JobEvent {
    }

    /** The job failed; {@code error} says why with the HTTP status to answer. */
    record Failed(ApiException error) implements JobEvent {
    }

    /** OpenAI's finish_reason values. */
    enum FinishReason {
        STOP("stop"), LENGTH("length");

        final String wire;

        FinishReason(String wire) {
            this.wire = wire;
        }
    }
}

package dev.rudder.server;

/** What a running job reports to the request that submitted it, in order: text pieces, then one end. */
sealed interface JobEvent {
    /** Generated text, safe to show (never part of a stop string). */
    record Text(String text) implements JobEvent {
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

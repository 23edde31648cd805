package dev.rudder.server;

import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.sample.Sampler;
import dev.rudder.tokenizer.StreamingDecoder;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A job inside the scheduler: its session (KV cache) once admitted, sampler, text decoder and
 * stop-string matcher, how much of the prompt is prefilled, and the token to feed next.
 * Only the scheduler thread touches it, except {@link #cancel()} (any thread).
 */
final class Sequence {
    enum State { WAITING, PREFILL, DECODE, DONE }

    final Job job;
    final Consumer<JobEvent> events;   // called on the scheduler thread; must not block
    final long submittedNanos = System.nanoTime();
    private volatile boolean cancelled;

    State state = State.WAITING;
    Session session;
    Sampler sampler;
    StreamingDecoder decoder;          // null when the model has no tokenizer
    StopStrings stops;
    int[] parts;                       // prompt chunk lengths (PromptParts.sizes)
    int partsDone;                     // chunks fed so far
    int prefilled;                     // prompt tokens fed so far
    int generated;                     // tokens sampled so far
    int nextToken = -1;                // sampled, not yet fed (DECODE state)
    Boolean gateOpen;
    Double gateScore;
    final List<TokenLogprob> logprobs = new ArrayList<>();   // entries not yet sent with a text event
    float[] biased;                    // [vocab] the logits plus the job's logit bias (reused per step)

    Sequence(Job job, Consumer<JobEvent> events) {
        this.job = job;
        this.events = events;
    }

    /** The client went away: the scheduler drops this sequence at its next step. */
    void cancel() {
        cancelled = true;
    }

    boolean cancelled() {
        return cancelled;
    }

    /**
     * After a stop string: the entries of the tokens that reach into the {@code chars} characters released before it
     * (a token may straddle the cut); the rest belong to the stop string and are dropped.
     */
    List<TokenLogprob> takeLogprobsCovering(int chars) {
        int keep = 0;
        for (int at = 0; keep < logprobs.size() && at < chars; keep++) {
            at += logprobs.get(keep).text().length();
        }
        List<TokenLogprob> out = List.copyOf(logprobs.subList(0, keep));
        logprobs.clear();
        return out;
    }

    /** The entries gathered since the last text event, handed over (the list starts again empty). */
    List<TokenLogprob> takeLogprobs() {
        if (logprobs.isEmpty()) {
            return List.of();
        }
        List<TokenLogprob> out = List.copyOf(logprobs);
        logprobs.clear();
        return out;
    }
}

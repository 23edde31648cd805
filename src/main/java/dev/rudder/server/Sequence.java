package dev.rudder.server;

import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.sample.Sampler;
import dev.rudder.tokenizer.StreamingDecoder;

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
}

package dev.rudder.server;

import dev.rudder.Rudder;
import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.generate.NonFiniteLogits;
import dev.rudder.runtime.model.PromptBatch;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.PromptParts;
import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.sample.Sampler;
import dev.rudder.runtime.steer.SteeringReport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Runs every request on one thread, in steps: admit waiting jobs up to {@code maxConcurrent}
 * sequences, prefill one chunk of the oldest new prompt (with the next chunks of the other new
 * prompts in the same pass, up to {@code prefillChunk} rows), then decode one token for every
 * running sequence together through the {@link BatchDecoder}. A long prompt is thus prefilled a
 * chunk at a time between decode steps, so streams already running keep flowing. Each sequence
 * follows exactly the loop of {@code Generator.generate} (sample, stop token, budget, context),
 * so its tokens are those of the same request run alone.
 *
 * <p>Decode steps go through {@link BatchDecoder#batched}: one pass over the weights for all
 * sequences, each row bit-identical to that sequence decoded alone.
 */
final class Scheduler implements AutoCloseable {
    private final Rudder rudder;
    private final BatchDecoder decoder;
    private final PromptBatch promptBatch;   // scheduler thread only
    private final Metrics metrics;
    private final int maxConcurrent;
    private final int maxQueued;
    private final int prefillChunk;
    private final Set<Integer> eos;
    private final TokenLogprob.Texts tokenTexts;

    private final LinkedBlockingQueue<Sequence> waiting = new LinkedBlockingQueue<>();
    private final AtomicInteger inFlight = new AtomicInteger();   // waiting + active
    private final List<Sequence> active = new ArrayList<>();      // scheduler thread only
    private volatile int activeCount;
    private volatile boolean accepting = true;
    private volatile boolean running = true;
    private final Thread thread;

    Scheduler(Rudder rudder, BatchDecoder decoder, Metrics metrics, int maxConcurrent, int maxQueued, int prefillChunk) {
        if (maxConcurrent < 1 || maxQueued < 0 || prefillChunk < 1) {
            throw new BadInputException("--max-concurrent and --prefill-chunk must be >= 1 and --queue >= 0");
        }
        this.rudder = rudder;
        this.decoder = decoder;
        this.promptBatch = new PromptBatch(rudder.model());
        this.metrics = metrics;
        this.maxConcurrent = maxConcurrent;
        this.maxQueued = maxQueued;
        this.prefillChunk = prefillChunk;
        this.eos = rudder.stopTokens();
        this.tokenTexts = new TokenLogprob.Texts(rudder.tokenizer().orElse(null));
        metrics.gauges(waiting::size, () -> activeCount);
        thread = Thread.ofPlatform().name("rudder-scheduler").daemon().start(this::loop);
    }

    /**
     * Queues a job. Its events go to {@code events} on the scheduler thread.
     *
     * @throws ApiException 429 when {@code maxConcurrent + maxQueued} jobs are in flight, 503 when shutting down
     */
    Sequence submit(Job job, Consumer<JobEvent> events) {
        if (!accepting) {
            throw new ApiException(503, "server_shutting_down", null, "the server is shutting down");
        }
        if (inFlight.incrementAndGet() > maxConcurrent + maxQueued) {
            inFlight.decrementAndGet();
            throw new ApiException(429, "queue_full", null, "the server is busy: " + maxConcurrent
                    + " requests are running and " + maxQueued + " are waiting; retry later");
        }
        Sequence s = new Sequence(job, events);
        waiting.add(s);
        return s;
    }

    /** Drops a job whose client went away; a waiting one frees its queue place at once, a running one at the next step. */
    void cancel(Sequence s) {
        s.cancel();
        if (waiting.remove(s)) {
            inFlight.decrementAndGet();
            metrics.cancelled();
        }
    }

    int inFlight() {
        return inFlight.get();
    }

    /** Stops taking jobs, lets those in flight finish for up to {@code grace}, then fails the rest. */
    void shutdown(Duration grace) {
        accepting = false;
        long end = System.nanoTime() + grace.toNanos();
        while (inFlight.get() > 0 && System.nanoTime() < end) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        running = false;
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }

    // ---------------------------------------------------------------- the scheduler thread

    private void loop() {
        while (running) {
            try {
                admit();
                if (active.isEmpty()) {
                    Sequence s = waiting.poll(50, TimeUnit.MILLISECONDS);
                    if (s != null) {
                        start(s);
                    }
                    continue;
                }
                dropCancelledAndExpired();
                prefillStep();
                decodeStep();
            } catch (InterruptedException e) {
                break;
            } catch (RuntimeException | Error e) {
                // a bug must not leave clients hanging: fail what is running and keep serving
                for (Sequence s : List.copyOf(active)) {
                    fail(s, new ApiException(500, "server_error", null, "internal error: " + e));
                }
            }
        }
        ApiException down = new ApiException(503, "server_shutting_down", null, "the server shut down before this request finished");
        for (Sequence s : List.copyOf(active)) {
            fail(s, down);
        }
        for (Sequence s; (s = waiting.poll()) != null; ) {
            s.state = Sequence.State.DONE;
            inFlight.decrementAndGet();
            s.events.accept(new JobEvent.Failed(down));
        }
        promptBatch.close();
    }

    private void admit() {
        while (active.size() < maxConcurrent) {
            Sequence s = waiting.poll();
            if (s == null) {
                return;
            }
            start(s);
        }
    }

    private void start(Sequence s) {
        if (s.cancelled()) {
            retire(s);
            metrics.cancelled();
            return;
        }
        Job job = s.job;
        active.add(s);
        activeCount = active.size();
        try {
            s.session = rudder.newSession(job.contextLength(), job.profile().plan());
        } catch (BadInputException e) {
            fail(s, ApiException.badRequest(null, e.getMessage()));
            return;
        } catch (OutOfMemoryError e) {
            fail(s, new ApiException(503, "server_overloaded", null, "not enough memory for a KV cache of "
                    + job.contextLength() + " positions now; retry later or ask for fewer max_tokens"));
            return;
        }
        s.sampler = new Sampler(job.sampling(), rudder.config().vocabSize());
        for (int id : job.prompt()) {
            s.sampler.observe(id);   // the repetition penalty counts the prompt, as in Generator
        }
        s.decoder = rudder.tokenizer().map(t -> t.streamingDecoder(true)).orElse(null);
        s.stops = new StopStrings(job.stop());
        s.parts = PromptParts.sizes(job.prompt().length, prefillChunk);
        s.state = Sequence.State.PREFILL;
        metrics.promptTokens(job.prompt().length);
    }

    private void dropCancelledAndExpired() {
        long now = System.nanoTime();
        for (Sequence s : List.copyOf(active)) {
            if (s.cancelled()) {
                retire(s);
                metrics.cancelled();
            } else if (now - s.job.deadlineNanos() > 0) {
                fail(s, new ApiException(504, "timeout", null, "the request ran past the server's time limit after "
                        + s.generated + " generated tokens"));
            }
        }
    }

    /**
     * One prompt chunk for the oldest sequence still prefilling, joined by the next chunks of the other sequences
     * prefilling (oldest first) while the pass stays within {@code prefillChunk} rows: one {@link PromptBatch} pass,
     * one matrix-matrix product per weight for all of them (requests that arrive together prefill at the efficiency
     * of one longer prompt). The chunks come from {@link PromptParts#sizes}, which cuts so that the chunks give the
     * whole prompt's logits, KV cache and gate bit for bit, and a joint pass gives each session exactly what its own
     * pass would (a request answers exactly what {@code rudder generate} does, busy or alone). A chunk that needs a
     * pass of its own ({@link PromptBatch#joins}: a gate to decide at the prompt's end, held chunks of a gated plan
     * that steers prompt positions) runs alone: see {@code Session.prefillPart}.
     */
    private void prefillStep() {
        List<Sequence> joint = new ArrayList<>();
        List<PromptInput> parts = new ArrayList<>();
        int rows = 0;
        for (Sequence s : active) {
            if (s.state != Sequence.State.PREFILL) {
                continue;
            }
            if (s.job.promptLogprobs()) {   // its whole prompt in a pass of its own, when its turn comes
                if (joint.isEmpty()) {
                    prefillWithLogprobs(s);
                    return;
                }
                continue;
            }
            PromptInput part = nextPart(s);
            boolean joins = rows + part.length() <= Math.max(prefillChunk, part.length()) && joins(s, part);
            if (joint.isEmpty() && !joins) {
                prefillAlone(s, part);   // the oldest goes first, alone if it must
                return;
            }
            if (joins) {
                joint.add(s);
                parts.add(part);
                rows += part.length();
            }
        }
        if (joint.size() == 1) {
            prefillAlone(joint.get(0), parts.get(0));
        } else if (!joint.isEmpty()) {
            prefillJoint(joint, parts);
        }
    }

    private static PromptInput nextPart(Sequence s) {
        int n = s.parts[s.partsDone];
        return PromptInput.tokens(Arrays.copyOfRange(s.job.prompt(), s.prefilled, s.prefilled + n));
    }

    private static boolean ends(Sequence s, PromptInput part) {
        return s.prefilled + part.length() == s.job.prompt().length;
    }

    private static boolean joins(Sequence s, PromptInput part) {
        try {
            return PromptBatch.joins(s.session, part, ends(s, part));
        } catch (BadInputException e) {
            return false;   // it fails with this message when it runs alone
        }
    }

    private void prefillAlone(Sequence s, PromptInput part) {
        boolean end = ends(s, part);
        metrics.promptPass(1);
        s.partsDone++;
        s.prefilled += part.length();
        try {
            if (!end) {
                s.session.prefillPart(part);
            } else {
                prefilled(s, s.session.prefill(part));
            }
        } catch (BadInputException e) {
            fail(s, ApiException.badRequest(null, e.getMessage()));
        }
    }

    private void prefillJoint(List<Sequence> joint, List<PromptInput> parts) {
        List<Session> sessions = new ArrayList<>(joint.size());
        boolean[] ends = new boolean[joint.size()];
        for (int i = 0; i < ends.length; i++) {
            sessions.add(joint.get(i).session);
            ends[i] = ends(joint.get(i), parts.get(i));
        }
        float[][] logits;
        try {
            logits = promptBatch.prefill(sessions, parts, ends);
        } catch (BadInputException e) {
            // every part is checked before anything runs: nothing was fed, so the oldest goes alone (and reports its error)
            prefillAlone(joint.get(0), parts.get(0));
            return;
        }
        metrics.promptPass(ends.length);
        for (int i = 0; i < ends.length; i++) {
            Sequence s = joint.get(i);
            s.partsDone++;
            s.prefilled += parts.get(i).length();
            if (ends[i]) {
                prefilled(s, logits[i]);
            }
        }
    }

    /**
     * Echo with logprobs: the whole prompt in one pass that keeps every position's logits (bounded by
     * {@link OpenAiRequest#MAX_PROMPT_LOGITS}), the prompt tokens' log-probabilities reported, then on as any prompt.
     */
    private void prefillWithLogprobs(Sequence s) {
        int[] prompt = s.job.prompt();
        metrics.promptPass(1);
        s.partsDone = s.parts.length;
        s.prefilled = prompt.length;
        float[][] all;
        try {
            all = s.session.prefillAllLogits(PromptInput.tokens(prompt));
        } catch (BadInputException e) {
            fail(s, ApiException.badRequest(null, e.getMessage()));
            return;
        }
        List<TokenLogprob> entries = new ArrayList<>(prompt.length);
        entries.add(TokenLogprob.first(prompt[0], tokenTexts));
        for (int p = 1; p < prompt.length; p++) {
            if (NonFiniteLogits.firstNonFinite(all[p - 1]) >= 0) {
                fail(s, new ApiException(500, "server_error", null, "the model's output is not finite at prompt position "
                        + (p - 1) + "; check the model's weights and the steering profile"));
                return;
            }
            entries.add(TokenLogprob.of(all[p - 1], prompt[p], s.job.logprobs(), tokenTexts));
            all[p - 1] = null;   // each row can go once used
        }
        s.events.accept(new JobEvent.PromptLogprobs(entries));
        prefilled(s, all[prompt.length - 1]);
    }

    /** The prompt is in: the gate's decision (gated profiles), then the first token as Generator samples it (none for max_tokens 0). */
    private void prefilled(Sequence s, float[] logits) {
        if (s.job.profile().gated()) {
            SteeringReport r = s.session.report();
            s.gateOpen = r.gateOpen();
            s.gateScore = (double) r.gateScore();
            metrics.gate(s.job.profile().name(), r.gateOpen());
        }
        if (s.job.maxTokens() == 0) {
            finish(s, JobEvent.FinishReason.LENGTH);
            return;
        }
        advance(s, logits);
    }

    private void decodeStep() {
        List<Sequence> batch = new ArrayList<>();
        for (Sequence s : active) {
            if (s.state == Sequence.State.DECODE) {
                batch.add(s);
            }
        }
        if (batch.isEmpty()) {
            return;
        }
        List<Session> sessions = new ArrayList<>(batch.size());
        int[] tokens = new int[batch.size()];
        for (int i = 0; i < tokens.length; i++) {
            sessions.add(batch.get(i).session);
            tokens[i] = batch.get(i).nextToken;
        }
        long t0 = System.nanoTime();
        float[][] logits = decoder.decode(sessions, tokens);
        metrics.decodeStep(tokens.length, (System.nanoTime() - t0) / 1e9);
        for (int i = 0; i < tokens.length; i++) {
            advance(batch.get(i), logits[i]);
        }
    }

    /** The body of Generator's loop: sample, report the text, then stop token, budget, context. */
    private void advance(Sequence s, float[] logits) {
        Job job = s.job;
        int bad = NonFiniteLogits.firstNonFinite(logits);
        if (bad >= 0) {   // sampling NaN/Inf would stream garbage: fail this request, as generate does
            fail(s, new ApiException(500, "server_error", null, "the model's output is not finite (logit " + bad + " = "
                    + logits[bad] + ") at generated token " + (s.generated + 1) + "; check the model's weights and the steering profile"));
            return;
        }
        int next = s.sampler.sample(job.logitBias().isEmpty() ? logits : (s.biased = job.logitBias().apply(logits, s.biased)));
        s.generated++;
        s.sampler.observe(next);
        metrics.generatedToken();
        if (s.generated == 1) {
            metrics.firstToken((System.nanoTime() - s.submittedNanos) / 1e9);
        }
        boolean stopToken = !job.ignoreEos() && eos.contains(next);
        if (!stopToken && job.logprobs() >= 0) {   // an end-of-sequence token is not part of the answer
            s.logprobs.add(TokenLogprob.of(logits, next, job.logprobs(), tokenTexts));
        }
        if (!stopToken && s.decoder != null) {
            String text = s.stops.accept(s.decoder.accept(next));
            if (s.stops.hit()) {
                List<TokenLogprob> logprobs = s.takeLogprobsCovering(text.length());
                if (!text.isEmpty() || !logprobs.isEmpty()) {
                    s.events.accept(new JobEvent.Text(text, logprobs));
                }
                finish(s, JobEvent.FinishReason.STOP);
                return;
            }
            if (!text.isEmpty()) {   // entries of held-back text wait for the text that releases them
                s.events.accept(new JobEvent.Text(text, s.takeLogprobs()));
            }
        }
        if (stopToken) {
            finish(s, JobEvent.FinishReason.STOP);
        } else if (s.generated >= job.maxTokens() || s.session.position() >= s.session.contextLength()) {
            finish(s, JobEvent.FinishReason.LENGTH);
        } else {
            s.nextToken = next;
            s.state = Sequence.State.DECODE;
        }
    }

    private void finish(Sequence s, JobEvent.FinishReason reason) {
        if (!s.stops.hit()) {   // after a stop string, entries still held belong to it and are dropped
            String rest = s.decoder == null ? "" : s.stops.accept(s.decoder.flush());
            rest += s.stops.flush();
            if (!rest.isEmpty() || !s.logprobs.isEmpty()) {
                s.events.accept(new JobEvent.Text(rest, s.takeLogprobs()));
            }
        }
        retire(s);
        s.events.accept(new JobEvent.Done(reason, s.job.prompt().length, s.generated, s.gateOpen, s.gateScore));
    }

    private void fail(Sequence s, ApiException e) {
        retire(s);
        s.events.accept(new JobEvent.Failed(e));
    }

    private void retire(Sequence s) {
        s.state = Sequence.State.DONE;
        s.session = null;   // the KV cache goes with it
        active.remove(s);
        activeCount = active.size();
        inFlight.decrementAndGet();
    }
}

package dev.rudder.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rudder.Rudder;
import dev.rudder.runtime.sample.SamplerOptions;
import io.javalin.http.Context;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * {@code POST /v1/chat/completions} and {@code /v1/completions}: parse, submit to the scheduler,
 * then either wait for the whole answer or relay it as server-sent events. Runs on the request's
 * virtual thread, which blocks on the job's event queue; the scheduler never waits for a client.
 */
final class CompletionEndpoint {
    private final Rudder rudder;
    private final SteeringProfiles profiles;
    private final ServerOptions options;
    private final Scheduler scheduler;
    private final Metrics metrics;

    CompletionEndpoint(Rudder rudder, SteeringProfiles profiles, ServerOptions options, Scheduler scheduler, Metrics metrics) {
        this.rudder = rudder;
        this.profiles = profiles;
        this.options = options;
        this.scheduler = scheduler;
        this.metrics = metrics;
    }

    void handle(Context ctx, OpenAiRequest.Endpoint endpoint) throws IOException, InterruptedException {
        long t0 = System.nanoTime();
        String label = endpoint == OpenAiRequest.Endpoint.CHAT ? "chat" : "completions";
        int status = 500;
        try {
            status = run(ctx, endpoint);
        } catch (ApiException e) {
            status = e.status;
            throw e;
        } finally {
            metrics.request(label, status, (System.nanoTime() - t0) / 1e9);
        }
    }

    private int run(Context ctx, OpenAiRequest.Endpoint endpoint) throws IOException, InterruptedException {
        OpenAiRequest req = OpenAiRequest.parse(endpoint, ctx.body(), rudder, profiles, options);
        BlockingQueue<Choice> events = new LinkedBlockingQueue<>();
        int choices = req.prompts().size() * req.n();
        List<Sequence> seqs = new ArrayList<>(choices);
        List<String> echoes = new ArrayList<>(choices);   // per choice: the text it starts with
        try {
            for (int c = 0; c < choices; c++) {   // choice p * n + i: prompt p, seed + i
                int[] prompt = req.prompts().get(c / req.n());
                SamplerOptions sp = req.sampling();
                SamplerOptions sampling = new SamplerOptions(sp.temperature(), sp.topK(), sp.topP(), sp.minP(),
                        sp.repetitionPenalty(), sp.seed() + c % req.n());
                boolean echo = !req.echoes().isEmpty();
                Job job = new Job(prompt, sampling, req.maxTokens(), req.ignoreEos(), req.stop(), req.profile(),
                        prompt.length + req.maxTokens(), System.nanoTime() + options.timeLimit().toNanos(),
                        req.logprobs(), echo && req.logprobs() >= 0, req.logitBias());
                echoes.add(echo ? req.echoes().get(c / req.n()) : "");
                int index = c;
                seqs.add(scheduler.submit(job, e -> events.add(new Choice(index, e))));
            }
            OpenAiResponses out = new OpenAiResponses(endpoint, endpoint.idPrefix + UUID.randomUUID(), options.modelId(),
                    req.profile().name(), req.logprobs() >= 0, req.n());
            return req.stream() ? stream(ctx, events, echoes, out, req.includeUsage(), seqs) : whole(ctx, events, echoes, out);
        } finally {
            seqs.forEach(scheduler::cancel);   // no-op for those that finished; frees the slots when we leave early
        }
    }

    /** A job's event, tagged with the index of the choice it belongs to. */
    private record Choice(int index, JobEvent event) {
    }

    private int whole(Context ctx, BlockingQueue<Choice> events, List<String> echoes, OpenAiResponses out)
            throws InterruptedException {
        int n = echoes.size();
        List<StringBuilder> texts = new ArrayList<>();
        List<List<TokenLogprob>> logprobs = new ArrayList<>();
        List<JobEvent.Done> done = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            texts.add(new StringBuilder(echoes.get(i)));
            logprobs.add(new ArrayList<>());
            done.add(null);
        }
        for (int left = n; left > 0; ) {
            Choice c = events.take();
            switch (c.event()) {
                case JobEvent.PromptLogprobs p -> logprobs.get(c.index()).addAll(0, p.logprobs());
                case JobEvent.Text t -> {
                    texts.get(c.index()).append(t.text());
                    logprobs.get(c.index()).addAll(t.logprobs());
                }
                case JobEvent.Done d -> {
                    done.set(c.index(), d);
                    left--;
                }
                case JobEvent.Failed f -> throw f.error();
            }
        }
        ctx.contentType("application/json").result(json(out.complete(texts.stream().map(StringBuilder::toString).toList(),
                logprobs, done)));
        return 200;
    }

    /**
     * Server-sent events in OpenAI's format, the choices' chunks interleaved as they come (each names its index);
     * a failed write means the client left, and the jobs are cancelled. While the jobs wait for a slot (or a long
     * prefill), an SSE comment every second finds clients that left, so they free their queue places too.
     */
    private int stream(Context ctx, BlockingQueue<Choice> events, List<String> echoes, OpenAiResponses out,
                       boolean includeUsage, List<Sequence> seqs) throws InterruptedException {
        int n = echoes.size();
        Choice first = events.poll(1, TimeUnit.SECONDS);
        if (first != null && first.event() instanceof JobEvent.Failed f) {
            throw f.error();   // nothing sent yet: an ordinary error response
        }
        ctx.status(200);
        ctx.res().setContentType("text/event-stream;charset=utf-8");
        ctx.res().setHeader("Cache-Control", "no-cache");
        ctx.res().setHeader("X-Accel-Buffering", "no");
        boolean[] started = new boolean[n];
        JobEvent.Done[] done = new JobEvent.Done[n];   // by choice
        int finished = 0;
        try {
            OutputStream os = ctx.res().getOutputStream();
            while (first == null) {
                sendRaw(os, ": waiting\n\n");
                first = events.poll(1, TimeUnit.SECONDS);
            }
            Choice c = first;
            while (true) {
                int i = c.index();
                if (!started[i] && !echoes.get(i).isEmpty()) {   // echo: the prompt first, with its log-probabilities if any
                    List<TokenLogprob> lp = c.event() instanceof JobEvent.PromptLogprobs p ? p.logprobs() : List.of();
                    send(os, out.textChunk(i, echoes.get(i), lp, true));
                    started[i] = true;
                }
                switch (c.event()) {
                    case JobEvent.PromptLogprobs p -> {
                        // sent above, with the echo
                    }
                    case JobEvent.Text t -> {
                        send(os, out.textChunk(i, t.text(), t.logprobs(), !started[i]));
                        started[i] = true;
                    }
                    case JobEvent.Done d -> {
                        if (!started[i]) {
                            send(os, out.textChunk(i, "", List.of(), true));
                        }
                        send(os, out.finalChunk(i, d));
                        done[i] = d;
                        if (++finished == n) {
                            if (includeUsage) {
                                send(os, out.usageChunk(List.of(done)));
                            }
                            sendRaw(os, "data: [DONE]\n\n");
                            return 200;
                        }
                    }
                    case JobEvent.Failed f -> {
                        send(os, OpenAiResponses.error(f.error()));
                        sendRaw(os, "data: [DONE]\n\n");
                        return f.error().status;
                    }
                }
                c = events.take();
            }
        } catch (IOException gone) {
            seqs.forEach(scheduler::cancel);
            return 499;   // client closed the connection (nginx's code)
        }
    }

    private static void send(OutputStream os, ObjectNode chunk) throws IOException {
        sendRaw(os, "data: " + json(chunk) + "\n\n");
    }

    private static void sendRaw(OutputStream os, String s) throws IOException {
        os.write(s.getBytes(StandardCharsets.UTF_8));
        os.flush();
    }

    static String json(ObjectNode o) {
        try {
            return OpenAiResponses.JSON.writeValueAsString(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}

package dev.rudder.server;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rudder.Rudder;
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
        Job job = new Job(req.prompt(), req.sampling(), req.maxTokens(), req.ignoreEos(), req.stop(), req.profile(),
                req.prompt().length + req.maxTokens(), System.nanoTime() + options.timeLimit().toNanos(), req.logprobs());
        BlockingQueue<JobEvent> events = new LinkedBlockingQueue<>();
        Sequence seq = scheduler.submit(job, events::add);
        OpenAiResponses out = new OpenAiResponses(endpoint, endpoint.idPrefix + UUID.randomUUID(), options.modelId(),
                req.profile().name(), req.logprobs() >= 0);
        try {
            return req.stream() ? stream(ctx, events, out, req.includeUsage(), seq) : whole(ctx, events, out);
        } finally {
            scheduler.cancel(seq);   // no-op when it finished; frees the slot when we leave early
        }
    }

    private int whole(Context ctx, BlockingQueue<JobEvent> events, OpenAiResponses out) throws InterruptedException {
        StringBuilder text = new StringBuilder();
        List<TokenLogprob> logprobs = new ArrayList<>();
        while (true) {
            switch (events.take()) {
                case JobEvent.Text t -> {
                    text.append(t.text());
                    logprobs.addAll(t.logprobs());
                }
                case JobEvent.Done d -> {
                    ctx.contentType("application/json").result(json(out.complete(text.toString(), logprobs, d)));
                    return 200;
                }
                case JobEvent.Failed f -> throw f.error();
            }
        }
    }

    /**
     * Server-sent events in OpenAI's format; a failed write means the client left, and the job is
     * cancelled. While the job waits for a slot (or a long prefill), an SSE comment every second
     * finds clients that left, so they free their queue place too.
     */
    private int stream(Context ctx, BlockingQueue<JobEvent> events, OpenAiResponses out, boolean includeUsage, Sequence seq)
            throws InterruptedException {
        JobEvent first = events.poll(1, TimeUnit.SECONDS);
        if (first instanceof JobEvent.Failed f) {
            throw f.error();   // nothing sent yet: an ordinary error response
        }
        ctx.status(200);
        ctx.res().setContentType("text/event-stream;charset=utf-8");
        ctx.res().setHeader("Cache-Control", "no-cache");
        ctx.res().setHeader("X-Accel-Buffering", "no");
        boolean firstText = true;
        try {
            OutputStream os = ctx.res().getOutputStream();
            while (first == null) {
                sendRaw(os, ": waiting\n\n");
                first = events.poll(1, TimeUnit.SECONDS);
            }
            JobEvent e = first;
            while (true) {
                switch (e) {
                    case JobEvent.Text t -> {
                        send(os, out.textChunk(t.text(), t.logprobs(), firstText));
                        firstText = false;
                    }
                    case JobEvent.Done d -> {
                        if (firstText) {
                            send(os, out.textChunk("", List.of(), true));
                        }
                        send(os, out.finalChunk(d));
                        if (includeUsage) {
                            send(os, out.usageChunk(d));
                        }
                        sendRaw(os, "data: [DONE]\n\n");
                        return 200;
                    }
                    case JobEvent.Failed f -> {
                        send(os, OpenAiResponses.error(f.error()));
                        sendRaw(os, "data: [DONE]\n\n");
                        return f.error().status;
                    }
                }
                e = events.take();
            }
        } catch (IOException gone) {
            scheduler.cancel(seq);
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

package dev.rudder.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.Rudder;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A bounded load test on loopback: {@value #CLIENTS} clients x {@value #REQUESTS} requests each,
 * streamed and whole, with and without profiles, against 4 slots and a queue of 2. Every request
 * is answered completely (finish_reason, usage, [DONE]) or with a clear 429; nothing is lost and
 * nothing stays in flight. Prints its figures (one line) for the notes.
 */
class ServerLoadTest {
    private static final int CLIENTS = 8;
    private static final int REQUESTS = 5;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyRequestIsAnsweredCompletelyOrWithAClearError() throws Exception {
        List<String> questions = ServerFixture.instructions("domain_val.jsonl", 10);
        String[] profiles = {null, "safe", "always"};
        AtomicInteger complete = new AtomicInteger();
        AtomicInteger busy = new AtomicInteger();
        AtomicInteger tokens = new AtomicInteger();
        try (Rudder rudder = ServerFixture.loadTarget();
             RudderServer server = RudderServer.start(rudder, ServerFixture.profiles(rudder),
                     ServerOptions.defaults("target", 512).withLimits(4, 2, Duration.ofMinutes(2)))) {
            HttpClient http = HttpClient.newHttpClient();
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions");
            ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
            long t0 = System.nanoTime();
            List<Future<?>> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                clients.add(pool.submit(() -> {
                    for (int i = 0; i < REQUESTS; i++) {
                        boolean stream = (client + i) % 2 == 0;
                        Map<String, Object> body = new java.util.HashMap<>(Map.of(
                                "messages", List.of(Map.of("role", "user", "content", questions.get((client + i) % questions.size()))),
                                "temperature", 0.7, "seed", client * 100 + i, "max_tokens", 24, "stream", stream,
                                "stream_options", Map.of("include_usage", stream)));
                        String profile = profiles[(client + i) % 3];
                        if (profile != null) {
                            body.put("rudder", Map.of("profile", profile));
                        }
                        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri)
                                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
                                HttpResponse.BodyHandlers.ofString());
                        if (r.statusCode() == 429) {
                            assertEquals("queue_full", JSON.readTree(r.body()).at("/error/type").asText(), r.body());
                            assertTrue(r.headers().firstValue("Retry-After").isPresent());
                            busy.incrementAndGet();
                            continue;
                        }
                        assertEquals(200, r.statusCode(), r.body());
                        tokens.addAndGet(stream ? checkStream(r.body()) : checkWhole(r.body()));
                        complete.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (Future<?> f : clients) {
                f.get();
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            pool.shutdown();
            assertEquals(CLIENTS * REQUESTS, complete.get() + busy.get(), "every request got an answer");
            assertTrue(complete.get() >= CLIENTS, "most requests are served: " + complete.get());
            assertEquals(0, server.scheduler().inFlight(), "nothing stays in flight");
            String metrics = server.metrics().render();
            assertTrue(metrics.contains("rudder_active_sequences 0") && metrics.contains("rudder_queue_length 0"), metrics);
            System.out.printf(Locale.ROOT, "load test: %d clients x %d requests in %.2f s: %d complete, %d answered 429, "
                            + "%d tokens generated (%.1f tokens/s aggregate)%n", CLIENTS, REQUESTS, seconds, complete.get(),
                    busy.get(), tokens.get(), tokens.get() / seconds);
        }
    }

    /** A whole answer: content, finish_reason, usage; returns completion_tokens. */
    private static int checkWhole(String body) throws Exception {
        JsonNode j = JSON.readTree(body);
        assertTrue(j.at("/choices/0/finish_reason").asText().matches("stop|length"), body);
        assertTrue(j.at("/choices/0/message/content").isTextual(), body);
        assertTrue(j.at("/rudder/profile").isTextual(), body);
        return j.at("/usage/completion_tokens").asInt();
    }

    /** A complete stream: chunks, one finish_reason with the rudder field, usage, then [DONE]; returns completion_tokens. */
    private static int checkStream(String body) throws Exception {
        List<String> data = body.lines().filter(l -> l.startsWith("data: ")).map(l -> l.substring(6)).toList();
        assertEquals("[DONE]", data.get(data.size() - 1), body);
        JsonNode last = JSON.readTree(data.get(data.size() - 3));
        assertTrue(last.at("/choices/0/finish_reason").asText().matches("stop|length"), body);
        assertTrue(last.at("/rudder/profile").isTextual(), body);
        for (String d : data.subList(0, data.size() - 1)) {
            assertTrue(JSON.readTree(d).at("/error").isMissingNode(), d);
        }
        return JSON.readTree(data.get(data.size() - 2)).at("/usage/completion_tokens").asInt();
    }
}

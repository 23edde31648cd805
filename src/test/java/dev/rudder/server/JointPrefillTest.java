package dev.rudder.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.Rudder;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** New prompts waiting together are prefilled in one pass, and each answer is still the one it gets alone. */
class JointPrefillTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    /** Prompts of 5-23 tokens (ids), three greedy and two sampled with a seed, the steered profiles among them. */
    private static List<String> bodies() {
        List<String> out = new ArrayList<>();
        String[] profiles = {null, "always", null, "safe", "always"};
        for (int i = 0; i < profiles.length; i++) {
            int[] prompt = new int[5 + 4 * i + (i % 2)];
            int seq = i;
            Arrays.setAll(prompt, k -> 20 + 13 * k + 7 * seq);
            out.add("{\"prompt\": " + Arrays.toString(prompt) + ", \"max_tokens\": 12, \"ignore_eos\": true, "
                    + (i % 2 == 0 ? "\"temperature\": 0" : "\"temperature\": 0.8, \"seed\": " + (50 + i))
                    + (profiles[i] == null ? "" : ", \"rudder\": {\"profile\": \"" + profiles[i] + "\"}") + "}");
        }
        return out;
    }

    private static CompletableFuture<HttpResponse<String>> post(RudderServer s, String body) {
        return HTTP.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static String text(HttpResponse<String> r) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body()).get("choices").get(0).get("text").asText();
    }

    @Test
    void promptsWaitingTogetherShareAPassAndAnswerAsAlone() throws Exception {
        List<String> bodies = bodies();
        CountDownLatch open = new CountDownLatch(1);
        BatchDecoder held = (sessions, tokens) -> {   // the first decode step waits, so the others queue meanwhile
            try {
                open.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return BatchDecoder.batched(sessions.get(0).model()).decode(sessions, tokens);
        };
        ServerOptions options = ServerOptions.defaults("target", 256).withLimits(8, 8, Duration.ofMinutes(2));
        try (Rudder r = ServerFixture.loadTarget();
             RudderServer server = RudderServer.start(r, ServerFixture.profiles(r), options, held)) {
            CompletableFuture<HttpResponse<String>> first = post(server, bodies.get(0));
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (metric(server, "rudder_prompt_passes_total") < 1) {   // the first prompt is in, its first step waits
                assertTrue(System.nanoTime() < deadline, "the first prompt was not prefilled");
                Thread.sleep(5);
            }
            List<CompletableFuture<HttpResponse<String>>> rest = new ArrayList<>();
            for (String b : bodies.subList(1, bodies.size())) {
                rest.add(post(server, b));
            }
            while (server.metrics().render().lines().noneMatch(l -> l.equals("rudder_queue_length " + rest.size()))) {
                assertTrue(System.nanoTime() < deadline, "the other requests did not queue");
                Thread.sleep(5);
            }
            open.countDown();
            List<String> together = new ArrayList<>();
            together.add(text(first.get()));
            for (CompletableFuture<HttpResponse<String>> f : rest) {
                together.add(text(f.get()));
            }
            long passes = metric(server, "rudder_prompt_passes_total");
            long chunks = metric(server, "rudder_prompt_pass_chunks_total");
            assertTrue(chunks > passes, "some prompts shared a pass: " + chunks + " chunks in " + passes + " passes");
            for (int i = 0; i < bodies.size(); i++) {
                assertEquals(text(post(server, bodies.get(i)).get()), together.get(i), "request " + i);
            }
        }
    }

    private static long metric(RudderServer s, String name) {
        return s.metrics().render().lines().filter(l -> l.startsWith(name + " ")).mapToLong(l -> Long.parseLong(l.split(" ")[1]))
                .findFirst().orElseThrow();
    }
}

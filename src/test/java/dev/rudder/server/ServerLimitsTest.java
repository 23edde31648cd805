package dev.rudder.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.Rudder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Queue limits, keys, disconnects, time limits, body limits, malformed requests and shutdown, over raw HTTP. */
class ServerLimitsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static Rudder rudder;
    private static SteeringProfiles profiles;

    @BeforeAll
    static void load() {
        rudder = ServerFixture.loadTarget();
        profiles = ServerFixture.profiles(rudder);
    }

    @AfterAll
    static void close() {
        rudder.close();
    }

    private static String body(String text, int maxTokens, boolean stream) {
        return "{\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}],\"temperature\":0,\"max_tokens\":" + maxTokens
                + ",\"ignore_eos\":true,\"stream\":" + stream + "}";
    }

    private static HttpRequest post(RudderServer s, String path, String body, String key) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return b.build();
    }

    private static HttpResponse<String> send(HttpRequest r) throws Exception {
        return HTTP.send(r, HttpResponse.BodyHandlers.ofString());
    }

    /** A chat completion sent without waiting for its answer. */
    private static CompletableFuture<HttpResponse<String>> chatAsync(RudderServer s, String body) {
        return HTTP.sendAsync(post(s, "/v1/chat/completions", body, null), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode error(HttpResponse<String> r) throws IOException {
        return JSON.readTree(r.body()).get("error");
    }

    /** Waits (at most 30 s, so a broken server fails instead of hanging) until the condition holds. */
    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + 30_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(10);
        }
    }

    private static long metric(RudderServer s, String name) {
        return s.metrics().render().lines().filter(l -> l.startsWith(name + " ")).mapToLong(l -> Long.parseLong(l.split(" ")[1]))
                .findFirst().orElseThrow();
    }

    /** Sequential decode that waits for a latch first (holds sequences in flight). */
    private static BatchDecoder gated(CountDownLatch open) {
        return (sessions, tokens) -> {
            try {
                open.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return BatchDecoder.SEQUENTIAL.decode(sessions, tokens);
        };
    }

    /** Sequential decode slowed down to {@code millis} per step. */
    private static BatchDecoder slow(int millis) {
        return (sessions, tokens) -> {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return BatchDecoder.SEQUENTIAL.decode(sessions, tokens);
        };
    }

    @Test
    void aFullQueueAnswers429WithRetryAfterAndTheOthersComplete() throws Exception {
        CountDownLatch open = new CountDownLatch(1);
        ServerOptions o = ServerOptions.defaults("target", 512).withLimits(1, 1, Duration.ofMinutes(1));
        try (RudderServer s = RudderServer.start(rudder, profiles, o, gated(open))) {
            CompletableFuture<HttpResponse<String>> a = chatAsync(s, body("Hi", 8, true));
            await(() -> s.scheduler().inFlight() == 1, "the first request runs");
            CompletableFuture<HttpResponse<String>> b = chatAsync(s, body("Hello", 8, false));
            await(() -> s.scheduler().inFlight() == 2, "the second request waits");
            HttpResponse<String> c = send(post(s, "/v1/chat/completions", body("Hey", 8, false), null));
            assertEquals(429, c.statusCode());
            assertEquals("1", c.headers().firstValue("Retry-After").orElse(null));
            assertEquals("queue_full", error(c).get("type").asText());
            open.countDown();
            HttpResponse<String> ra = a.get();
            assertEquals(200, ra.statusCode());
            assertTrue(ra.body().endsWith("data: [DONE]\n\n"), ra.body());
            assertEquals(200, b.get().statusCode());
            assertEquals(8, JSON.readTree(b.get().body()).get("usage").get("completion_tokens").asInt());
        }
    }

    @Test
    void nChoicesThatDoNotAllFitAre429AndLeaveNoSlotTaken() throws Exception {
        CountDownLatch open = new CountDownLatch(1);
        ServerOptions o = ServerOptions.defaults("target", 512).withLimits(2, 1, Duration.ofMinutes(1));
        try (RudderServer s = RudderServer.start(rudder, profiles, o, gated(open))) {
            CompletableFuture<HttpResponse<String>> a = chatAsync(s, body("Hi", 4, false));
            await(() -> s.scheduler().inFlight() == 1, "the first request runs");
            String three = "{\"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}], \"max_tokens\": 4, \"n\": 3}";
            HttpResponse<String> c = send(post(s, "/v1/chat/completions", three, null));
            assertEquals(429, c.statusCode(), c.body());   // 2 of its 3 choices had places: both are given back
            assertEquals(1, s.scheduler().inFlight());
            String two = "{\"messages\": [{\"role\": \"user\", \"content\": \"Hello\"}], \"max_tokens\": 4, \"n\": 2, \"temperature\": 0}";
            CompletableFuture<HttpResponse<String>> b = chatAsync(s, two);
            await(() -> s.scheduler().inFlight() == 3, "both choices of the second request are admitted");
            open.countDown();
            assertEquals(200, a.get().statusCode());
            JsonNode rb = JSON.readTree(b.get().body());
            assertEquals(2, rb.get("choices").size(), rb.toString());
            assertEquals(8, rb.get("usage").get("completion_tokens").asInt());
            await(() -> s.scheduler().inFlight() == 0, "all slots are free again");
        }
    }

    @Test
    void anApiKeyIsRequiredOnTheApiButNotOnHealth() throws Exception {
        try (RudderServer s = RudderServer.start(rudder, profiles, ServerOptions.defaults("target", 512).withApiKey("s3cret"))) {
            HttpResponse<String> none = send(post(s, "/v1/chat/completions", body("Hi", 2, false), null));
            assertEquals(401, none.statusCode());
            assertTrue(error(none).get("message").asText().contains("Authorization: Bearer"), none.body());
            assertEquals(401, send(post(s, "/v1/chat/completions", body("Hi", 2, false), "wrong")).statusCode());
            assertEquals(200, send(post(s, "/v1/chat/completions", body("Hi", 2, false), "s3cret")).statusCode());
            HttpResponse<String> models = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/models")).build());
            assertEquals(401, models.statusCode());
            HttpResponse<String> health = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/health")).build());
            assertEquals(200, health.statusCode());
        }
    }

    @Test
    void aClientThatLeavesMidStreamFreesItsSlot() throws Exception {
        ServerOptions o = ServerOptions.defaults("target", 512).withLimits(1, 0, Duration.ofMinutes(1));
        try (RudderServer s = RudderServer.start(rudder, profiles, o, slow(20))) {
            String req = body("Tell me a story.", 400, true);
            try (Socket socket = startStream(s, req)) {
                BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
                String line;
                int chunks = 0;
                while ((line = in.readLine()) != null && chunks < 3) {
                    chunks += line.startsWith("data: {") ? 1 : 0;
                }
                assertEquals(3, chunks, "the stream started");
            }   // the client goes away after 3 of 400 tokens (400 x 20 ms = 8 s if it ran on)
            await(() -> s.scheduler().inFlight() == 0, "the slot is free");
            assertEquals(1, s.metrics().cancelledCount());
            assertTrue(metric(s, "rudder_generated_tokens_total") < 400, s.metrics().render());
            // the single slot takes the next request at once
            HttpResponse<String> next = send(post(s, "/v1/chat/completions", body("Hi", 3, false), null));
            assertEquals(200, next.statusCode(), next.body());
        }
    }

    @Test
    void aQueuedStreamingClientThatLeavesFreesItsQueuePlace() throws Exception {
        CountDownLatch open = new CountDownLatch(1);
        ServerOptions o = ServerOptions.defaults("target", 512).withLimits(1, 1, Duration.ofMinutes(1));
        try (RudderServer s = RudderServer.start(rudder, profiles, o, gated(open))) {
            CompletableFuture<HttpResponse<String>> a = chatAsync(s, body("Hi", 8, true));
            await(() -> s.scheduler().inFlight() == 1, "the first request runs");
            try (Socket socket = startStream(s, body("Hello", 8, true))) {
                await(() -> s.scheduler().inFlight() == 2, "the second request waits");
            }   // the queued client leaves before it got a token
            await(() -> s.scheduler().inFlight() == 1, "its queue place is free");
            assertEquals(1, s.metrics().cancelledCount());
            open.countDown();
            assertEquals(200, a.get().statusCode());
        }
    }

    /** Sends a streaming request on a raw socket (so the test can drop the connection). */
    private static Socket startStream(RudderServer s, String req) throws IOException {
        Socket socket = new Socket("127.0.0.1", s.port());
        OutputStream out = socket.getOutputStream();
        out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + req.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + req)
                .getBytes(StandardCharsets.UTF_8));
        out.flush();
        return socket;
    }

    @Test
    void aRequestPastTheTimeLimitEndsWithAClearError() throws Exception {
        ServerOptions o = ServerOptions.defaults("target", 512).withLimits(2, 2, Duration.ofMillis(500));
        try (RudderServer s = RudderServer.start(rudder, profiles, o, slow(50))) {
            HttpResponse<String> whole = send(post(s, "/v1/chat/completions", body("Tell me a story.", 400, false), null));
            assertEquals(504, whole.statusCode(), whole.body());
            assertTrue(error(whole).get("message").asText().contains("time limit"), whole.body());
            HttpResponse<String> stream = send(post(s, "/v1/chat/completions", body("Tell me a story.", 400, true), null));
            assertEquals(200, stream.statusCode());   // the stream had started: the error is its last event
            List<String> events = stream.body().lines().filter(l -> l.startsWith("data: ")).toList();
            assertTrue(events.get(events.size() - 2).contains("\"type\":\"timeout\""), stream.body());
            assertEquals("data: [DONE]", events.get(events.size() - 1));
            await(() -> s.scheduler().inFlight() == 0, "both are gone");
        }
    }

    @Test
    void malformedAndOversizedRequestsAre400Or413WithAMessage() throws Exception {
        try (RudderServer s = RudderServer.start(rudder, profiles, ServerOptions.defaults("target", 512).withMaxBody(4096))) {
            record Case(String body, String param, String says) {
            }
            for (Case c : List.of(
                    new Case("{\"messages\": [", null, "not valid JSON"),
                    new Case("[1, 2]", null, "JSON object"),
                    new Case("{\"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}]}", "messages[0].role", "system, user or assistant"),
                    new Case("{\"messages\": [{\"role\": \"user\", \"content\": 7}]}", "messages[0].content", "string"),
                    new Case("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"n\": 0}", "n", "between 1 and 16"),
                    new Case("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"n\": 2.5}", "n", "integer"),
                    new Case("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"top_logprobs\": 1}", "top_logprobs", "logprobs: true"),
                    new Case("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"logprobs\": 3}", "logprobs", "true or false"),
                    new Case("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"functions\": [{\"name\": \"f\"}]}", "functions", "not supported"),
                    new Case("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"logit_bias\": {\"5\": 101}}", "logit_bias", "-100 to 100"),
                    new Case("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 0}", "max_tokens", "at least 1"),
                    new Case("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stop\": [\"\"]}", "stop", "non-empty"),
                    new Case("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"stream\": \"yes\"}", "stream", "true or false"),
                    new Case("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"echo\": true}", "echo", "not supported"),
                    new Case("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"presence_penalty\": 0.5}",
                            "presence_penalty", "repetition_penalty"),
                    new Case("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"rudder\": {\"profile\": 3}}", "rudder.profile", "string"))) {
                HttpResponse<String> r = send(post(s, "/v1/chat/completions", c.body(), null));
                assertEquals(400, r.statusCode(), c.body() + " -> " + r.body());
                JsonNode e = error(r);
                assertTrue(e.get("message").asText().contains(c.says()), r.body());
                assertEquals(c.param() == null ? "null" : c.param(), e.get("param").asText(), r.body());
            }
            HttpResponse<String> big = send(post(s, "/v1/completions", "{\"prompt\": \"" + "x".repeat(8000) + "\"}", null));
            assertEquals(413, big.statusCode(), big.body());
            assertTrue(error(big).get("message").asText().contains("4096 bytes"), big.body());
            HttpResponse<String> ids = send(post(s, "/v1/completions", "{\"prompt\": [1, 99999], \"max_tokens\": 2}", null));
            assertEquals(400, ids.statusCode(), ids.body());
        }
    }

    @Test
    void shutdownLetsTheRequestInFlightFinishAndRefusesNewOnes() throws Exception {
        ServerOptions o = ServerOptions.defaults("target", 512);
        RudderServer s = RudderServer.start(rudder, profiles, o, slow(10));
        CompletableFuture<HttpResponse<String>> running = chatAsync(s, body("Tell me a story.", 40, true));
        await(() -> s.scheduler().inFlight() == 1, "the request runs");
        CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> s.close(Duration.ofSeconds(30)));
        await(() -> {
            try {
                return send(post(s, "/v1/chat/completions", body("Hi", 2, false), null)).statusCode() == 503;
            } catch (Exception e) {
                return true;   // the listener may already be closed
            }
        }, "new requests are refused");
        HttpResponse<String> r = running.get();
        assertEquals(200, r.statusCode());
        assertTrue(r.body().contains("\"finish_reason\":\"length\"") && r.body().endsWith("data: [DONE]\n\n"), r.body());
        closing.get();
    }

    @Test
    void nonFiniteLogitsFailTheRequestWith500InsteadOfStreamingGarbage(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        java.nio.file.Path tiny = ServerFixture.SHARED.resolve("models/tiny-llama-f32");
        try (var files = java.nio.file.Files.list(tiny)) {
            for (java.nio.file.Path f : files.toList()) {
                java.nio.file.Files.copy(f, tmp.resolve(f.getFileName().toString()));
            }
        }
        pokeNaN(tmp.resolve("model.safetensors"), "model.layers.1.mlp.down_proj.weight");
        try (Rudder broken = Rudder.load(tmp, 1);
             RudderServer s = RudderServer.start(broken, SteeringProfiles.empty(), ServerOptions.defaults("tiny", 64))) {
            HttpResponse<String> r = send(post(s, "/v1/completions",
                    "{\"prompt\": [1, 2, 3], \"max_tokens\": 3, \"temperature\": 0}", null));
            assertEquals(500, r.statusCode(), r.body());
            assertTrue(error(r).get("message").asText().contains("the model's output is not finite"), r.body());
            await(() -> s.scheduler().inFlight() == 0, "the failed request freed its slot");
        }
    }

    /** Writes NaN over the first value of a tensor in a safetensors file. */
    private static void pokeNaN(java.nio.file.Path file, String tensor) throws IOException {
        try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.WRITE)) {
            var len = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long n = len.flip().getLong();
            var header = java.nio.ByteBuffer.allocate((int) n);
            ch.read(header, 8);
            JsonNode h = new ObjectMapper().readTree(new String(header.array(), StandardCharsets.UTF_8));
            long start = h.get(tensor).get("data_offsets").get(0).asLong();
            ch.write(java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(Float.NaN).flip(), 8 + n + start);
        }
    }
}

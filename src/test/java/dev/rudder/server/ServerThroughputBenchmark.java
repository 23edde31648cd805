package dev.rudder.server;

import dev.rudder.Rudder;
import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.io.RandomCheckpoint;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Aggregate decode throughput of {@code rudder serve} with 8 concurrent streams vs one, on a
 * random checkpoint with the exact SmolLM2-135M shape (BF16), through real HTTP on loopback.
 * A benchmark, not a test: it runs only with {@code -Drudder.bench=true}:
 * <pre>mvn -B -q -pl src -am test -Dtest=ServerThroughputBenchmark -Dsurefire.failIfNoSpecifiedTests=false -Drudder.bench=true</pre>
 * Rounds of 1 stream, 8 streams batched, and 8 streams decoded one after another (the same
 * server code with the sequential decoder) alternate, so the ratios come from one run.
 */
class ServerThroughputBenchmark {
    private static final int TOKENS = Integer.getInteger("rudder.bench.tokens", 64);
    private static final int ROUNDS = Integer.getInteger("rudder.bench.rounds", 3);
    private static final int THREADS = Integer.getInteger("rudder.bench.threads", 2);

    @Test
    void eightStreamsVersusOne() throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("rudder.bench"), "benchmark: run with -Drudder.bench=true");
        Path dir = Path.of(System.getProperty("rudder.bench.dir", "/tmp/rudder-bench")).resolve("smollm2-135m-bf16");
        RandomCheckpoint.ensure(dir, "smollm2-135m", DType.BF16, 1234L, System.err);
        try (Rudder rudder = Rudder.load(dir, THREADS, null)) {
            ServerOptions options = ServerOptions.defaults("smollm2-135m-random", 512).withLimits(8, 8, Duration.ofMinutes(10));
            HttpClient http = HttpClient.newHttpClient();
            double[] one = new double[ROUNDS];
            double[] eight = new double[ROUNDS];
            double[] eightSequential = new double[ROUNDS];
            for (int round = -1; round < ROUNDS; round++) {   // round -1 warms up
                try (RudderServer batched = RudderServer.start(rudder, SteeringProfiles.empty(), options)) {
                    double a = tokensPerSecond(http, batched, 1);
                    double b = tokensPerSecond(http, batched, 8);
                    if (round >= 0) {
                        one[round] = a;
                        eight[round] = b;
                    }
                }
                try (RudderServer sequential = RudderServer.start(rudder, SteeringProfiles.empty(), options, BatchDecoder.SEQUENTIAL)) {
                    double c = tokensPerSecond(http, sequential, 8);
                    if (round >= 0) {
                        eightSequential[round] = c;
                    }
                }
            }
            double m1 = median(one);
            double m8 = median(eight);
            double m8s = median(eightSequential);
            System.out.printf(Locale.ROOT, "serve throughput, smollm2-135m shape BF16, %d threads, %d tokens per stream, "
                            + "median of %d rounds: 1 stream %.1f tok/s; 8 streams %.1f tok/s aggregate (%.2fx); "
                            + "8 streams with sequential decode %.1f tok/s (%.2fx)%n",
                    THREADS, TOKENS, ROUNDS, m1, m8, m8 / m1, m8s, m8s / m1);
            assertTrue(m8 > 0 && m1 > 0);
        }
    }

    /** n concurrent streams of TOKENS tokens each (16-token prompts, greedy, EOS ignored): total tokens / wall time. */
    private static double tokensPerSecond(HttpClient http, RudderServer server, int n) throws Exception {
        URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/completions");
        List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            int[] prompt = new int[16];
            int seq = i;
            Arrays.setAll(prompt, k -> 100 + 37 * k + 11 * seq);
            String body = "{\"prompt\": " + Arrays.toString(prompt) + ", \"max_tokens\": " + TOKENS
                    + ", \"temperature\": 0, \"ignore_eos\": true, \"stream\": true}";
            all.add(http.sendAsync(HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (CompletableFuture<HttpResponse<String>> f : all) {
            HttpResponse<String> r = f.get();
            assertEquals(200, r.statusCode(), r.body());
            assertTrue(r.body().contains("\"finish_reason\":\"length\""), r.body());
        }
        return (double) n * TOKENS / ((System.nanoTime() - t0) / 1e9);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}

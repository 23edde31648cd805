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
 *
 * <p>The wall time of a request includes prefilling its prompt (the 8 prompts one chunk per
 * scheduler turn); the server's own {@code rudder_decode_step_seconds} then splits it: the second
 * line gives the share of the wall spent in decode steps and the tokens per second of those steps
 * alone, the figure to compare with {@code BatchDecodeReport} (which times decode steps only).
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
            Run[] one = new Run[ROUNDS];
            Run[] eight = new Run[ROUNDS];
            Run[] eightSequential = new Run[ROUNDS];
            for (int round = -1; round < ROUNDS; round++) {   // round -1 warms up
                try (RudderServer batched = RudderServer.start(rudder, SteeringProfiles.empty(), options)) {
                    Run a = run(http, batched, 1);
                    Run b = run(http, batched, 8);
                    if (round >= 0) {
                        one[round] = a;
                        eight[round] = b;
                    }
                }
                try (RudderServer sequential = RudderServer.start(rudder, SteeringProfiles.empty(), options, BatchDecoder.SEQUENTIAL)) {
                    Run c = run(http, sequential, 8);
                    if (round >= 0) {
                        eightSequential[round] = c;
                    }
                }
            }
            double m1 = median(one, Run::tokensPerSecond);
            double m8 = median(eight, Run::tokensPerSecond);
            double m8s = median(eightSequential, Run::tokensPerSecond);
            double d1 = median(one, Run::decodeTokensPerSecond);
            double d8 = median(eight, Run::decodeTokensPerSecond);
            double[] perRound = new double[ROUNDS];   // 8 streams / 1 stream within each round
            for (int i = 0; i < ROUNDS; i++) {
                perRound[i] = eight[i].tokensPerSecond() / one[i].tokensPerSecond();
            }
            Arrays.sort(perRound);
            System.out.printf(Locale.ROOT, "serve throughput, smollm2-135m shape BF16, %d threads, %d tokens per stream, "
                            + "median of %d rounds: 1 stream %.1f tok/s; 8 streams %.1f tok/s aggregate (%.2fx; %.2fx in the same rounds); "
                            + "8 streams with sequential decode %.1f tok/s (%.2fx)%n",
                    THREADS, TOKENS, ROUNDS, m1, m8, m8 / m1, perRound[ROUNDS / 2], m8s, m8s / m1);
            System.out.printf(Locale.ROOT, "decode steps alone (server's rudder_decode_step_seconds): 1 stream %.1f tok/s "
                            + "(%.0f%% of the wall), 8 streams %.1f tok/s (%.0f%% of the wall, %.2f sequences per step) (%.2fx)%n",
                    d1, 100 * median(one, Run::decodeShare), d8, 100 * median(eight, Run::decodeShare),
                    median(eight, Run::meanBatch), d8 / d1);
            assertTrue(m8 > 0 && m1 > 0);
        }
    }

    /**
     * One measurement: {@code n} streams' tokens over the wall time, and over the time the server spent in
     * decode steps during it (from its metrics), with the mean number of sequences per step.
     */
    private record Run(double tokensPerSecond, double decodeTokensPerSecond, double decodeShare, double meanBatch) {
    }

    private static Run run(HttpClient http, RudderServer server, int n) throws Exception {
        double[] before = decodeMetrics(http, server);
        long t0 = System.nanoTime();
        double tps = tokensPerSecond(http, server, n);
        double wall = (System.nanoTime() - t0) / 1e9;
        double[] after = decodeMetrics(http, server);
        double stepSeconds = after[0] - before[0];
        double rows = after[1] - before[1];
        double steps = after[2] - before[2];
        return new Run(tps, rows / stepSeconds, stepSeconds / wall, rows / steps);
    }

    /** {rudder_decode_step_seconds_sum, rudder_decode_rows_total, rudder_decode_steps_total} from /metrics. */
    private static double[] decodeMetrics(HttpClient http, RudderServer server) throws Exception {
        String text = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        String[] names = {"rudder_decode_step_seconds_sum ", "rudder_decode_rows_total ", "rudder_decode_steps_total "};
        double[] v = new double[names.length];
        for (String line : text.split("\n")) {
            for (int i = 0; i < names.length; i++) {
                if (line.startsWith(names[i])) {
                    v[i] = Double.parseDouble(line.substring(names[i].length()).trim());
                }
            }
        }
        return v;
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

    private static double median(Run[] runs, java.util.function.ToDoubleFunction<Run> f) {
        double[] s = Arrays.stream(runs).mapToDouble(f).toArray();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}

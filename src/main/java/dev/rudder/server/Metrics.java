package dev.rudder.server;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;

/**
 * The server's counters, gauges and latency histograms, rendered in the Prometheus text
 * exposition format for {@code GET /metrics}. Thread-safe; updates never block.
 */
final class Metrics {
    private static final double[] LATENCY_BUCKETS = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();   // key: endpoint|code
    private final LongAdder promptTokens = new LongAdder();
    private final LongAdder generatedTokens = new LongAdder();
    private final LongAdder cancelled = new LongAdder();
    private final LongAdder decodeSteps = new LongAdder();
    private final LongAdder decodeRows = new LongAdder();
    private final LongAdder promptPasses = new LongAdder();
    private final LongAdder promptPassChunks = new LongAdder();
    private final Map<String, LongAdder> gateDecisions = new ConcurrentHashMap<>();   // key: profile|open
    private final Histogram requestSeconds = new Histogram();
    private final Histogram firstTokenSeconds = new Histogram();
    private final Histogram decodeStepSeconds = new Histogram();
    private volatile IntSupplier queueLength = () -> 0;
    private volatile IntSupplier activeSequences = () -> 0;

    void gauges(IntSupplier queue, IntSupplier active) {
        this.queueLength = queue;
        this.activeSequences = active;
    }

    void request(String endpoint, int status, double seconds) {
        requests.computeIfAbsent(endpoint + "|" + status, k -> new LongAdder()).increment();
        requestSeconds.observe(seconds);
    }

    void promptTokens(int n) {
        promptTokens.add(n);
    }

    void generatedToken() {
        generatedTokens.increment();
    }

    void cancelled() {
        cancelled.increment();
    }

    void firstToken(double seconds) {
        firstTokenSeconds.observe(seconds);
    }

    /** One forward pass over prompt chunks of {@code sequences} sequences (more than one: a joint pass). */
    void promptPass(int sequences) {
        promptPasses.increment();
        promptPassChunks.add(sequences);
    }

    void decodeStep(int rows, double seconds) {
        decodeSteps.increment();
        decodeRows.add(rows);
        decodeStepSeconds.observe(seconds);
    }

    void gate(String profile, boolean open) {
        gateDecisions.computeIfAbsent(profile + "|" + open, k -> new LongAdder()).increment();
    }

    long cancelledCount() {
        return cancelled.sum();
    }

    String render() {
        StringBuilder b = new StringBuilder();
        header(b, "rudder_requests_total", "counter", "HTTP requests to the completion endpoints by status code");
        requests.forEach((k, v) -> {
            String[] p = k.split("\\|");
            b.append("rudder_requests_total{endpoint=\"").append(p[0]).append("\",code=\"").append(p[1]).append("\"} ")
                    .append(v.sum()).append('\n');
        });
        counter(b, "rudder_prompt_tokens_total", "prompt tokens prefilled", promptTokens.sum());
        counter(b, "rudder_generated_tokens_total", "tokens generated", generatedTokens.sum());
        counter(b, "rudder_requests_cancelled_total", "requests whose client went away before the end", cancelled.sum());
        counter(b, "rudder_decode_steps_total", "batched decode steps", decodeSteps.sum());
        counter(b, "rudder_decode_rows_total", "sequences decoded, summed over steps (rows / steps = mean batch)", decodeRows.sum());
        counter(b, "rudder_prompt_passes_total", "forward passes over prompt chunks", promptPasses.sum());
        counter(b, "rudder_prompt_pass_chunks_total",
                "prompt chunks prefilled, summed over passes (chunks / passes = mean prompts per pass)", promptPassChunks.sum());
        header(b, "rudder_gate_decisions_total", "counter", "InferAligner gate decisions by profile");
        gateDecisions.forEach((k, v) -> {
            String[] p = k.split("\\|");
            b.append("rudder_gate_decisions_total{profile=\"").append(escape(p[0])).append("\",open=\"").append(p[1])
                    .append("\"} ").append(v.sum()).append('\n');
        });
        gauge(b, "rudder_queue_length", "requests waiting for a sequence slot", queueLength.getAsInt());
        gauge(b, "rudder_active_sequences", "sequences being prefilled or decoded", activeSequences.getAsInt());
        requestSeconds.render(b, "rudder_request_duration_seconds", "time from request to its last byte");
        firstTokenSeconds.render(b, "rudder_time_to_first_token_seconds", "time from request to its first generated token");
        decodeStepSeconds.render(b, "rudder_decode_step_seconds", "time of one batched decode step");
        return b.toString();
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    private static void header(StringBuilder b, String name, String type, String help) {
        b.append("# HELP ").append(name).append(' ').append(help).append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void counter(StringBuilder b, String name, String help, long v) {
        header(b, name, "counter", help);
        b.append(name).append(' ').append(v).append('\n');
    }

    private static void gauge(StringBuilder b, String name, String help, long v) {
        header(b, name, "gauge", help);
        b.append(name).append(' ').append(v).append('\n');
    }

    /** A cumulative histogram with fixed buckets (seconds). */
    private static final class Histogram {
        private final LongAdder[] counts = new LongAdder[LATENCY_BUCKETS.length + 1];
        private final java.util.concurrent.atomic.DoubleAdder sum = new java.util.concurrent.atomic.DoubleAdder();

        Histogram() {
            for (int i = 0; i < counts.length; i++) {
                counts[i] = new LongAdder();
            }
        }

        void observe(double seconds) {
            int i = 0;
            while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) {
                i++;
            }
            counts[i].increment();
            sum.add(seconds);
        }

        void render(StringBuilder b, String name, String help) {
            header(b, name, "histogram", help);
            long cum = 0;
            for (int i = 0; i < LATENCY_BUCKETS.length; i++) {
                cum += counts[i].sum();
                b.append(name).append("_bucket{le=\"").append(fmt(LATENCY_BUCKETS[i])).append("\"} ").append(cum).append('\n');
            }
            cum += counts[LATENCY_BUCKETS.length].sum();
            b.append(name).append("_bucket{le=\"+Inf\"} ").append(cum).append('\n');
            b.append(name).append("_sum ").append(fmt(sum.sum())).append('\n');
            b.append(name).append("_count ").append(cum).append('\n');
        }

        private static String fmt(double v) {
            return String.format(Locale.ROOT, "%s", v);
        }
    }
}

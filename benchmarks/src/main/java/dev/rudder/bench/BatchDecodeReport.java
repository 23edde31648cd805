package dev.rudder.bench;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.io.RandomCheckpoint;
import dev.rudder.runtime.model.DecodeBatch;
import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Aggregate decode tokens/s of N sequences stepped together by {@link DecodeBatch} against the
 * same N sequences stepped one after another with {@code Session.decode}, in one JVM, the two
 * ways alternating round by round (so drifts on a shared machine hit both alike). Each round
 * also steps one sequence alone, so the ratio to one stream is also given as the median of
 * per-round ratios (on a shared machine it drifts less than the ratio of two medians taken
 * minutes apart).
 *
 * <pre>java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar dev.rudder.bench.BatchDecodeReport [shape] [threads] [rounds] [sizes, e.g. 1,2,4,8]</pre>
 */
public final class BatchDecodeReport {
    private static final int TOKENS = 32;

    private BatchDecodeReport() {
    }

    public static void main(String[] args) throws Exception {
        String shape = args.length > 0 ? args[0] : "smollm2-135m";
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        int[] sizes = Arrays.stream((args.length > 3 ? args[3] : "1,2,4,8").split(",")).mapToInt(Integer::parseInt).toArray();
        String given = System.getProperty("rudder.bench.model");   // a model folder or GGUF file instead of the shape
        Path dir = given != null ? Path.of(given)
                : Path.of(System.getProperty("rudder.bench.dir", "/tmp/rudder-bench")).resolve(shape + "-bf16");
        if (given == null) {
            RandomCheckpoint.ensure(dir, shape, DType.BF16, 1234L, System.err);
        } else {
            shape = dir.getFileName().toString();
        }
        try (Model model = Model.load(dir, threads, null)) {
            System.out.printf(Locale.ROOT, "%s, %d threads, %d cpus, %d tokens per sequence, %d rounds (medians)%n",
                    shape, threads, Runtime.getRuntime().availableProcessors(), TOKENS, rounds);
            double single = 0;
            for (int n : sizes) {
                List<Double> alone = new ArrayList<>();
                List<Double> batched = new ArrayList<>();
                List<Double> perOne = new ArrayList<>();   // per round: batched / one stream measured in that round
                DecodeBatch batch = new DecodeBatch(model);
                DecodeBatch one = new DecodeBatch(model);
                int warm = Math.max(2, rounds / 5);
                for (int round = 0; round < warm + rounds; round++) {
                    boolean batchFirst = round % 2 == 0;
                    double a = 0;
                    double b = 0;
                    for (int k = 0; k < 2; k++) {
                        if ((k == 0) == batchFirst) {
                            b = run(model, n, batch);
                        } else {
                            a = run(model, n, null);
                        }
                    }
                    double o = n == 1 ? b : run(model, 1, one);
                    if (round >= warm) {
                        alone.add(a);
                        batched.add(b);
                        perOne.add(b / o);
                    }
                }
                double ma = median(alone);
                double mb = median(batched);
                if (n == 1) {
                    single = mb;
                }
                System.out.printf(Locale.ROOT, "%d sequences: one after another %.1f tok/s, batched %.1f tok/s (x%.2f)%s%n",
                        n, ma, mb, mb / ma, single > 0 ? String.format(Locale.ROOT, ", x%.2f one stream (x%.2f in the same rounds)",
                                mb / single, median(perOne)) : "");
            }
        }
    }

    /** Aggregate tokens/s of {@code n} sequences decoding {@link #TOKENS} tokens each. */
    private static double run(Model model, int n, DecodeBatch batch) {
        List<Session> sessions = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Session s = model.newSession(TOKENS + 8);
            s.prefill(PromptInput.tokens(1, 2 + i));
            sessions.add(s);
        }
        int[] tokens = new int[n];
        long t0 = System.nanoTime();
        for (int t = 0; t < TOKENS; t++) {
            for (int i = 0; i < n; i++) {
                tokens[i] = 3 + (31 * t + 7 * i) % 500;
            }
            if (batch != null) {
                batch.decode(sessions, tokens);
            } else {
                for (int i = 0; i < n; i++) {
                    sessions.get(i).decode(tokens[i]);
                }
            }
        }
        return (double) n * TOKENS * 1e9 / (System.nanoTime() - t0);
    }

    private static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}

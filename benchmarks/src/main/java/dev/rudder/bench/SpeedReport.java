package dev.rudder.bench;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.io.RandomCheckpoint;
import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.steer.Gate;
import dev.rudder.runtime.steer.SteeringPlan;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Prints decode and prefill tokens/s, and the cost of steering, in one JVM. JIT decisions, page
 * placement and neighbours on a shared machine move decode speed by more than steering costs,
 * so the three plans (none, a vector on every layer, gate + vectors) run side by side: three
 * sessions advance in lockstep, one token each in turn (rotating who goes first), and each
 * plan's time is the sum over its own steps. Slow drifts hit all three alike.
 *
 * <pre>java --add-modules jdk.incubator.vector -cp benchmarks/target/benchmarks.jar dev.rudder.bench.SpeedReport [shape] [threads] [rounds]</pre>
 */
public final class SpeedReport {
    private SpeedReport() {
    }

    public static void main(String[] args) throws Exception {
        String shape = args.length > 0 ? args[0] : "smollm2-135m";
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 30;
        Path dir = Path.of(System.getProperty("rudder.bench.dir", "/tmp/rudder-bench")).resolve(shape + "-bf16");
        RandomCheckpoint.ensure(dir, shape, DType.BF16, 1234L, System.err);
        try (Model model = Model.load(dir, threads, null)) {
            int layers = model.config().numLayers();
            int hidden = model.config().hiddenSize();
            Random r = new Random(7);
            SteeringPlan.Builder steer = SteeringPlan.builder(layers).positions(SteeringPlan.Positions.ALL);
            for (int l = 0; l < layers; l++) {
                float[] v = new float[hidden];
                for (int i = 0; i < hidden; i++) {
                    v[i] = (float) r.nextGaussian() * 0.01f;
                }
                steer.blockOutput(l, v, 1f);
            }
            SteeringPlan steered = steer.build();
            float[] g = new float[hidden];
            g[0] = 1f;
            SteeringPlan gated = steer.gate(new Gate(0, g, 1e9f)).build();   // always open: full steering cost
            SteeringPlan[] plans = {SteeringPlan.NONE, steered, gated};
            String[] names = {"none", "steer every layer", "gate + steer"};
            int[] prompt = new int[128];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = 1 + r.nextInt(model.config().vocabSize() - 1);
            }
            List<List<Double>> decode = new ArrayList<>();
            List<Double> prefill = new ArrayList<>();
            for (int p = 0; p < plans.length; p++) {
                decode.add(new ArrayList<>());
            }
            int warm = Math.max(3, rounds / 5);
            for (int round = 0; round < warm + rounds; round++) {
                long t0 = System.nanoTime();
                model.newSession(prompt.length, SteeringPlan.NONE).prefill(PromptInput.tokens(prompt));
                double prefillTps = prompt.length * 1e9 / (System.nanoTime() - t0);
                double[] tps = decodeLockstep(model, plans, 48, round);
                if (round >= warm) {
                    for (int p = 0; p < plans.length; p++) {
                        decode.get(p).add(tps[p]);
                    }
                }
                if (round >= warm) {
                    prefill.add(prefillTps);
                }
            }
            System.out.printf(Locale.ROOT, "%s, %d threads, %s, %d rounds (medians)%n", shape, threads,
                    System.getProperty("os.arch") + " " + Runtime.getRuntime().availableProcessors() + " cpus", rounds);
            System.out.printf(Locale.ROOT, "prefill (128-token prompt): %.1f tok/s%n", median(prefill));
            double base = median(decode.get(0));
            for (int p = 0; p < plans.length; p++) {
                double m = median(decode.get(p));
                System.out.printf(Locale.ROOT, "decode, %-18s %.1f tok/s  (%+.2f%% time vs none)%n", names[p] + ":", m,
                        (base / m - 1) * 100);
            }
        }
    }

    /** Decode tokens/s of each plan, the sessions stepping one token each in turn. */
    private static double[] decodeLockstep(Model model, SteeringPlan[] plans, int tokens, int round) {
        Session[] s = new Session[plans.length];
        for (int p = 0; p < plans.length; p++) {
            s[p] = model.newSession(tokens + 1, plans[p]);
            s[p].prefill(PromptInput.tokens(1));
        }
        long[] nanos = new long[plans.length];
        int token = 5;
        for (int i = 0; i < tokens; i++) {
            for (int k = 0; k < plans.length; k++) {
                int p = (i + round + k) % plans.length;   // rotate who goes first
                long t0 = System.nanoTime();
                s[p].decode(token);
                nanos[p] += System.nanoTime() - t0;
            }
            token = (token * 31 + 7) % 1000 + 1;
        }
        double[] tps = new double[plans.length];
        for (int p = 0; p < plans.length; p++) {
            tps[p] = tokens * 1e9 / nanos[p];
        }
        return tps;
    }

    private static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}

package dev.rudder.bench;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.io.RandomCheckpoint;
import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.steer.Gate;
import dev.rudder.runtime.steer.SteeringPlan;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * End-to-end decode and prefill speed on a random checkpoint of an exact real shape (default
 * SmolLM2-135M, BF16), made once under {@code rudder.bench.dir} (default /tmp/rudder-bench).
 * Decode: one token through the whole model incl. the LM head, with a growing KV cache (reset
 * every 256 tokens). Prefill: a 128-token prompt in one layer-major batch. {@code plan} compares
 * no steering, a vector on every layer, and gate + vectors (the fused seam's overhead).
 * tokens/s = 1 / (seconds per op) for decode, 128 / (seconds per op) for prefill.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx8g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class GenerationBenchmark {

    @Param({"smollm2-135m"})
    public String shape;

    @Param({"2"})
    public int threads;

    @Param({"none", "steer", "gate+steer"})
    public String plan;

    private Model model;
    private SteeringPlan steering;
    private Session session;
    private int[] prompt;
    private int token;

    @Setup(Level.Trial)
    public void load() throws Exception {
        Path dir = Path.of(System.getProperty("rudder.bench.dir", "/tmp/rudder-bench")).resolve(shape + "-bf16");
        RandomCheckpoint.ensure(dir, shape, DType.BF16, 1234L, System.err);
        model = Model.load(dir, threads, null);
        int layers = model.config().numLayers();
        int hidden = model.config().hiddenSize();
        Random r = new Random(7);
        SteeringPlan.Builder b = SteeringPlan.builder(layers).positions(SteeringPlan.Positions.ALL);
        if (!plan.equals("none")) {
            for (int l = 0; l < layers; l++) {
                float[] v = new float[hidden];
                for (int i = 0; i < hidden; i++) {
                    v[i] = (float) r.nextGaussian() * 0.01f;
                }
                b.blockOutput(l, v, 1f);
            }
        }
        if (plan.equals("gate+steer")) {
            float[] g = new float[hidden];
            g[0] = 1f;
            b.gate(new Gate(0, g, 1e9f));   // always open: measures the full steering cost
        }
        steering = plan.equals("none") ? SteeringPlan.NONE : b.build();
        prompt = new int[128];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = 1 + r.nextInt(model.config().vocabSize() - 1);
        }
        token = prompt[0];
    }

    @Setup(Level.Iteration)
    public void freshSession() {
        session = model.newSession(512, steering);
        session.prefill(PromptInput.tokens(1));
    }

    @TearDown(Level.Trial)
    public void close() {
        model.close();
    }

    @Benchmark
    public float decode() {
        if (session.position() >= 256) {
            session = model.newSession(512, steering);
            session.prefill(PromptInput.tokens(1));
        }
        float[] logits = session.decode(token);
        token = (token * 31 + 7) % 1000 + 1;
        return logits[0];
    }

    @Benchmark
    public float prefill128() {
        Session s = model.newSession(prompt.length, steering);
        return s.prefill(PromptInput.tokens(prompt))[0];
    }
}

package dev.rudder.bench.gpu;

import dev.rudder.runtime.backend.Backend;
import dev.rudder.runtime.cuda.KernelProfile;
import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.io.RandomCheckpoint;
import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.sample.Sampler;
import dev.rudder.runtime.steer.Gate;
import dev.rudder.runtime.steer.SteeringPlan;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Decode and prefill speed on the CUDA backend, BF16 random checkpoints in real model shapes
 * (written here by the code behind {@code rudder random-model --shape S --dtype bf16}). Decode
 * runs three plans in lockstep (none, a vector on every layer, gate + vectors with the gate
 * open), one token each in turn, so the steering and gate overhead is a ratio measured side by
 * side. Decode bandwidth = weight bytes read per token (every block matrix and the LM head) plus
 * the KV cache read, times tokens/s.
 */
final class SpeedChecks {
    private static final int PREFILL = 512;
    private static final int CONTEXT = 128;   // prompt before the timed decode steps
    private static final int DECODE = 128;
    private static final int PROFILED = 16;   // decode steps after the timed ones, with GPU time per kernel

    private final Path work;
    private final Backend.Factory backend;
    private final GpuCheck.Report report;
    private final double nominal;
    private final double measured;
    private boolean profile;

    /** Also prints the GPU time per kernel of {@value #PROFILED} decode steps after the timed ones. */
    SpeedChecks profiled(boolean on) {
        profile = on;
        return this;
    }

    /**
     * {@code nominal}, {@code measured}: memory bandwidth in bytes/s; with {@code measured <= 0}
     * (the CPU, for checking this harness) only speeds are printed and no targets are checked.
     */
    SpeedChecks(Path work, Backend.Factory backend, GpuCheck.Report report, double nominal, double measured) {
        this.work = work;
        this.backend = backend;
        this.report = report;
        this.nominal = nominal;
        this.measured = measured;
    }

    void run(List<String> shapes) {
        for (String shape : shapes) {
            report.guard("speed " + shape, () -> shape(shape));
        }
    }

    private void shape(String shape) throws Exception {
        long t0 = System.nanoTime();
        Path dir = RandomCheckpoint.ensure(work.resolve(shape + "-bf16"), shape, DType.BF16, 1234L, System.err);
        long t1 = System.nanoTime();
        try (Model m = Model.load(dir, Runtime.getRuntime().availableProcessors(), null, backend)) {
            System.out.printf("%n== %s (BF16): checkpoint %.1f s, upload %.1f s, backend %s%n", shape, (t1 - t0) / 1e9,
                    (System.nanoTime() - t1) / 1e9, m.backend().name());
            ModelConfig c = m.config();
            Random r = new Random(7);
            int[] prompt = new int[PREFILL];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = 1 + r.nextInt(c.vocabSize() - 1);
            }
            // warm-up: PTX already JIT-compiled at load; first launches and allocations
            Session w = m.newSession(64);
            w.prefill(PromptInput.tokens(java.util.Arrays.copyOf(prompt, 16)));
            w.decode(1);
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 3; i++) {
                Session s = m.newSession(PREFILL + 1);
                long a = System.nanoTime();
                s.prefill(PromptInput.tokens(prompt));
                best = Math.min(best, (System.nanoTime() - a) / 1e9);
            }
            System.out.printf("prefill %d tokens: %.1f ms, %.0f tok/s%n", PREFILL, best * 1e3, PREFILL / best);
            decode(m, prompt, r);
        }
    }

    private void decode(Model m, int[] prompt, Random r) {
        ModelConfig c = m.config();
        int layers = c.numLayers();
        int hidden = c.hiddenSize();
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
        SteeringPlan gated = steer.gate(new Gate(0, g, 1e9f)).build();   // always open: the full cost
        SteeringPlan[] plans = {SteeringPlan.NONE, steered, gated};
        String[] names = {"none", "steer every layer", "gate + steer"};
        Session[] sessions = new Session[plans.length];
        int[] next = new int[plans.length];
        for (int p = 0; p < plans.length; p++) {
            sessions[p] = m.newSession(CONTEXT + DECODE + PROFILED + 1, plans[p]);
            next[p] = Sampler.argmax(sessions[p].prefill(PromptInput.tokens(java.util.Arrays.copyOf(prompt, CONTEXT))));
        }
        long[] nanos = new long[plans.length];
        for (int step = 0; step < DECODE; step++) {
            for (int k = 0; k < plans.length; k++) {
                int p = (step + k) % plans.length;   // rotate who goes first
                long a = System.nanoTime();
                float[] logits = sessions[p].decode(next[p]);
                nanos[p] += System.nanoTime() - a;
                next[p] = Sampler.argmax(logits);
            }
        }
        double weightBytes = 2.0 * ((long) layers * ((long) (c.numHeads() + 2 * c.numKvHeads()) * c.headDim() * hidden
                + (long) hidden * c.numHeads() * c.headDim() + 3L * c.intermediateSize() * hidden) + (long) c.vocabSize() * hidden);
        double kvBytes = 2.0 * 4 * layers * c.numKvHeads() * c.headDim() * (CONTEXT + DECODE / 2.0);
        double base = DECODE / (nanos[0] / 1e9);
        for (int p = 0; p < plans.length; p++) {
            double tps = DECODE / (nanos[p] / 1e9);
            double bps = (weightBytes + kvBytes) * tps;
            System.out.printf("decode %-18s %7.1f tok/s  %6.0f GB/s%s%s%n", names[p], tps, bps / 1e9,
                    measured <= 0 ? "" : String.format(" = %.2f of nominal, %.2f of measured copy bandwidth",
                            nominal > 0 ? bps / nominal : Double.NaN, bps / measured),
                    p == 0 ? "" : String.format("  (overhead %+.1f%%)", 100 * (base / tps - 1)));
        }
        System.out.printf("(per token: %.0f MB of weights, %.0f MB of KV cache on average)%n", weightBytes / 1e6, kvBytes / 1e6);
        System.out.println("(so far in this run: " + dev.rudder.runtime.cuda.CudaGpu.graphCounts() + ")");
        if (profile) {
            profile(sessions[0], next[0]);
        }
        if (measured <= 0) {
            return;
        }
        double fraction = (weightBytes + kvBytes) * base / (nominal > 0 ? nominal : measured);
        if (c.numLayers() == 32 && c.hiddenSize() == 4096) {   // the llama-2-7b shape: the target
            report.check(fraction >= 0.7, String.format("7B-shape BF16 decode at %.2f of memory bandwidth (target >= 0.7)", fraction));
        }
        for (int p = 1; p < plans.length; p++) {
            double overhead = base / (DECODE / (nanos[p] / 1e9)) - 1;
            report.check(overhead < 0.02, String.format("%s decode overhead of %s: %+.1f%% (target < 2%%)",
                    c.numLayers() + "-layer", names[p], 100 * overhead));
        }
    }

    /** GPU time per kernel over {@value #PROFILED} decode steps (plan none), against their wall time. */
    private static void profile(Session s, int token) {
        KernelProfile.start();
        long a = System.nanoTime();
        for (int i = 0; i < PROFILED; i++) {
            token = Sampler.argmax(s.decode(token));
        }
        double wallUs = (System.nanoTime() - a) / 1e3 / PROFILED;
        KernelProfile.stop();
        double gpuUs = 0;
        System.out.println("GPU time per decode token, by kernel (events around each launch; plan none):");
        for (var e : KernelProfile.totals()) {
            double us = e.getValue()[0] * 1e3 / PROFILED;
            gpuUs += us;
            System.out.printf("  %-22s %6.1f launches %8.1f us/launch %9.1f us/token%n", e.getKey(), e.getValue()[1] / PROFILED,
                    us * PROFILED / e.getValue()[1], us);
        }
        System.out.printf("  kernels %.0f us of a %.0f us step (with the events' own cost)%n", gpuUs, wallUs);
    }
}

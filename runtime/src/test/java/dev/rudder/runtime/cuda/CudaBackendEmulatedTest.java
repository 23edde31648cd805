package dev.rudder.runtime.cuda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.runtime.SharedData;
import dev.rudder.runtime.backend.Backend;
import dev.rudder.runtime.io.SafeTensorsFile;
import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.sample.Sampler;
import dev.rudder.runtime.steer.Gate;
import dev.rudder.runtime.steer.SteeringPlan;
import dev.rudder.runtime.steer.SteeringPlan.Positions;
import dev.rudder.runtime.steer.SteeringReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA backend's host side on an {@link EmulatedGpu} (kernels run in Java): the same golden
 * logits and greedy ids as the CPU, steering/probes/gate equal to the CPU backend, a closed
 * gate and an empty plan bit-identical to the plain model, batched decode equal to each
 * sequence alone. What this cannot check is the CUDA C itself: benchmarks/gpu-check.sh does, on a GPU.
 */
class CudaBackendEmulatedTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static Backend.Factory emulated() {
        return (cfg, weights, threads) -> new CudaBackend(new EmulatedGpu(4), true, cfg, weights);
    }

    private static int[] ids(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asInt();
        }
        return out;
    }

    private static float maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"tiny-llama-f32", "tiny-llama3-bf16", "tiny-qwen2-f16", "tiny-mistral-sharded", "aidreams260K-hf"})
    void goldenLogitsAndGreedyIds(String name) throws IOException {
        checkGolden(name, emulated(), 1e-4f);
    }

    /** p7 logits at every position and p33 last logits within {@code tol}, then 8 greedy ids from p33. */
    static void checkGolden(String name, Backend.Factory backend, float tol) throws IOException {
        JsonNode exp = JSON.readTree(SharedData.golden("logits", name, "expected.json").toFile());
        try (Model m = Model.load(SharedData.model(name), 1, null, backend);
             SafeTensorsFile golden = SafeTensorsFile.open(SharedData.golden("logits", name, "logits.safetensors"))) {
            // prompt path (tensor cores for BF16/F16), every position
            float[][] rows = m.newSession(16).prefillAllLogits(PromptInput.tokens(ids(exp.get("prompts").get("p7").get("ids"))));
            float[] want = golden.tensor("p7.all").data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
            int vocab = rows[0].length;
            for (int r = 0; r < rows.length; r++) {
                float d = maxAbsDiff(Arrays.copyOfRange(want, r * vocab, (r + 1) * vocab), rows[r]);
                assertTrue(d <= tol, name + " p7 row " + r + ": max abs logit diff " + d);
            }
            // decode path, long enough for split attention
            JsonNode p = exp.get("prompts").get("p33");
            int[] greedy = ids(p.get("greedy"));
            Session s = m.newSession(64);
            float[] logits = s.prefill(PromptInput.tokens(ids(p.get("ids"))));
            float[] last = golden.tensor("p33.last").data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
            assertTrue(maxAbsDiff(last, logits) <= tol, name + " p33 last logits");
            int[] got = new int[8];
            for (int i = 0; i < got.length; i++) {
                got[i] = Sampler.argmax(logits);
                logits = s.decode(got[i]);
            }
            assertArrayEquals(Arrays.copyOf(greedy, got.length), got, name + " greedy ids");
        }
    }

    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    private static List<SteeringPlan> plans(int hidden, int layers) {
        float[] v = random(hidden, 1);
        float[] w = random(hidden, 2);
        List<SteeringPlan> plans = new ArrayList<>();
        plans.add(SteeringPlan.builder(layers).blockOutput(layers - 1, v, 4f).afterAttention(0, w, 2f).probe(1, w).build());
        plans.add(SteeringPlan.builder(layers).blockOutput(1, v, 5f).positions(Positions.GENERATED).probe(layers - 1, w).build());
        plans.add(SteeringPlan.builder(layers).blockOutput(layers - 1, v, 6f).gate(new Gate(0, w, 1e30f)).build());
        plans.add(SteeringPlan.builder(layers).blockOutput(layers - 1, v, 6f).gate(new Gate(0, w, 0.5f)).build());
        plans.add(SteeringPlan.builder(layers).blockOutput(0, w, 2f).positions(Positions.ALL)
                .gate(new Gate(layers - 1, v, 1e30f)).build());   // gate after the steered layer: recompute
        return plans;
    }

    private static float[][] run(Model m, SteeringPlan plan, int[] prompt, int steps, SteeringReport[] report) {
        Session s = m.newSession(32, plan);
        float[][] out = new float[steps + 1][];
        out[0] = s.prefill(PromptInput.tokens(prompt)).clone();
        for (int i = 1; i <= steps; i++) {
            out[i] = s.decode(Sampler.argmax(out[i - 1])).clone();
        }
        report[0] = s.report();
        return out;
    }

    @Test
    void steeringProbesAndGateMatchTheCpuBackend() {
        int[] prompt = {1, 17, 300, 42, 999, 5, 77};
        try (Model cpu = Model.load(SharedData.model("tiny-llama3-bf16"), 1, null);
             Model gpu = Model.load(SharedData.model("tiny-llama3-bf16"), 1, null, emulated())) {
            int hidden = cpu.config().hiddenSize();
            int layers = cpu.config().numLayers();
            for (SteeringPlan plan : plans(hidden, layers)) {
                SteeringReport[] rc = new SteeringReport[1];
                SteeringReport[] rg = new SteeringReport[1];
                float[][] a = run(cpu, plan, prompt, 3, rc);
                float[][] b = run(gpu, plan, prompt, 3, rg);
                for (int i = 0; i < a.length; i++) {
                    assertTrue(maxAbsDiff(a[i], b[i]) <= 1e-4f, "step " + i + " logits, plan " + plan);
                }
                assertEquals(rc[0].gateOpen(), rg[0].gateOpen(), "gate decision");
                assertEquals(Float.isNaN(rc[0].gateScore()), Float.isNaN(rg[0].gateScore()), "gate score present");
                if (!Float.isNaN(rc[0].gateScore())) {
                    assertEquals(rc[0].gateScore(), rg[0].gateScore(), 1e-3f * Math.max(1, Math.abs(rc[0].gateScore())), "gate score");
                }
                float[] pc = rc[0].probeScores();
                float[] pg = rg[0].probeScores();
                for (int l = 0; l < layers; l++) {
                    assertEquals(Float.isNaN(pc[l]), Float.isNaN(pg[l]), "probe read at layer " + l);
                    if (!Float.isNaN(pc[l])) {
                        assertEquals(pc[l], pg[l], 1e-3f * Math.max(1, Math.abs(pc[l])), "probe at layer " + l);
                    }
                }
            }
        }
    }

    @Test
    void emptyPlanAndClosedGateAreThePlainModelBitForBit() {
        int[] prompt = {1, 17, 300, 42, 999, 5, 77};
        try (Model gpu = Model.load(SharedData.model("tiny-qwen2-f16"), 1, null, emulated())) {
            int hidden = gpu.config().hiddenSize();
            int layers = gpu.config().numLayers();
            SteeringReport[] r = new SteeringReport[1];
            float[][] plain = run(gpu, SteeringPlan.NONE, prompt, 3, r);
            SteeringPlan empty = SteeringPlan.builder(layers).build();
            SteeringPlan closed = SteeringPlan.builder(layers).blockOutput(0, random(hidden, 3), 8f).positions(Positions.ALL)
                    .gate(new Gate(layers - 1, random(hidden, 4), -1e30f)).build();
            for (SteeringPlan plan : List.of(empty, closed)) {
                float[][] got = run(gpu, plan, prompt, 3, r);
                for (int i = 0; i < got.length; i++) {
                    assertArrayEquals(plain[i], got[i], "step " + i);
                }
            }
            assertEquals(false, r[0].gateOpen(), "the closed gate reads closed");
        }
    }

    @Test
    void packedPromptsAndChunkedPrefillMatchTheCpuBackend() {
        int[][] prompts = {{1, 5, 9}, {1, 300, 42, 999, 5}, {7}, {1, 2, 3, 4, 5, 6, 7, 8}};
        try (Model cpu = Model.load(SharedData.model("tiny-qwen2-f16"), 1, null);
             Model gpu = Model.load(SharedData.model("tiny-qwen2-f16"), 1, null, emulated())) {
            // packed: rows of several prompts in one pass, each attending only to itself (attendFrom > 0)
            float[][][] a = cpu.newSession(32).lastTokenBlockOutputs(prompts);
            float[][][] b = gpu.newSession(32).lastTokenBlockOutputs(prompts);
            for (int j = 0; j < a.length; j++) {
                for (int l = 0; l < a[j].length; l++) {
                    assertTrue(maxAbsDiff(a[j][l], b[j][l]) <= 1e-4f, "prompt " + j + " block " + l);
                }
            }
            // a prompt in parts, then decode
            Session sc = cpu.newSession(32);
            Session sg = gpu.newSession(32);
            for (Session s : List.of(sc, sg)) {
                s.prefillPart(PromptInput.tokens(prompts[1]));
            }
            float[] lc = sc.prefill(PromptInput.tokens(prompts[3]));
            float[] lg = sg.prefill(PromptInput.tokens(prompts[3]));
            assertTrue(maxAbsDiff(lc, lg) <= 1e-4f, "chunked prefill");
            assertTrue(maxAbsDiff(sc.decode(Sampler.argmax(lc)), sg.decode(Sampler.argmax(lg))) <= 1e-4f, "decode after it");
            assertTrue(maxAbsDiff(sc.lastHiddenState(), sg.lastHiddenState()) <= 1e-4f, "last hidden state");
        }
    }

    @Test
    void aDecodeStepFusesEachSeamWithTheNextNorm() {
        EmulatedGpu gpu = new EmulatedGpu(4);
        try (Model m = Model.load(SharedData.model("tiny-llama3-bf16"), 1, null,
                (cfg, weights, threads) -> new CudaBackend(gpu, true, cfg, weights))) {
            int layers = m.config().numLayers();
            Session s = m.newSession(16);
            s.prefill(PromptInput.tokens(new int[] {1, 2, 3}));
            gpu.launches.clear();
            s.decode(4);
            // per layer: qkv, rope+store, attention, o, seam+norm, gate/up+SwiGLU, down, seam+norm;
            // the first norm and the last seam stand alone (nothing before / the final norm is in logits)
            assertEquals(2 * layers - 1, gpu.launches.get(Kernel.RESIDUAL_SEAM_RMSNORM));
            assertEquals(1, gpu.launches.get(Kernel.RESIDUAL_SEAM));
            assertEquals(2, gpu.launches.get(Kernel.RMSNORM), "first block's norm and the final norm");
            assertEquals(layers, gpu.launches.get(Kernel.ROPE_KV_STORE));
            assertEquals(layers, gpu.launches.get(Kernel.MATVEC_SWIGLU_BF16));
            assertEquals(3 * layers + 1, gpu.launches.get(Kernel.MATVEC_BF16), "qkv, o, down per block and the LM head");
        }
    }

    /** CUDA graphs replay a step only when it repeats the last one exactly: decode steps must. */
    @Test
    void decodeStepsRepeatLaunchForLaunchWithNoOtherWorkBetween() {
        EmulatedGpu gpu = new EmulatedGpu(4);
        try (Model m = Model.load(SharedData.model("tiny-llama3-bf16"), 1, null,
                (cfg, weights, threads) -> new CudaBackend(gpu, true, cfg, weights))) {
            Session s = m.newSession(64);
            int token = Sampler.argmax(s.prefill(PromptInput.tokens(new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17})));
            int first = gpu.steps.size();
            for (int i = 0; i < 12; i++) {
                token = Sampler.argmax(s.decode(token));
            }
            List<LaunchRecord> decode = gpu.steps.subList(first, gpu.steps.size());
            assertEquals(12, decode.size(), "one step (launches between waits) per decoded token");
            assertFalse(gpu.mixedSteps.subList(first, gpu.steps.size()).contains(true), "no uploads from the host between a step's launches");
            int repeats = 0;
            StringBuilder differences = new StringBuilder();
            for (int i = 1; i < decode.size(); i++) {
                String d = decode.get(i).firstDifference(decode.get(i - 1));
                if (d == null) {
                    repeats++;
                } else {
                    differences.append("\n  step ").append(i).append(": ").append(d);
                }
            }
            // spans 18..29 stay below the next power of two (32), where the attention split count would change
            assertEquals(11, repeats, repeats + " of 11 steps repeat the one before:" + differences);
        }
    }

    @Test
    void batchedDecodeEqualsEachSequenceAlone() {
        try (Model gpu = Model.load(SharedData.model("tiny-llama3-bf16"), 1, null, emulated())) {
            int hidden = gpu.config().hiddenSize();
            int layers = gpu.config().numLayers();
            List<SteeringPlan> plans = plans(hidden, layers);
            List<Session> alone = new ArrayList<>();
            List<Session> together = new ArrayList<>();
            int[] tokens = new int[plans.size()];
            for (int i = 0; i < plans.size(); i++) {
                int[] prompt = new int[2 + i];
                for (int t = 0; t < prompt.length; t++) {
                    prompt[t] = 1 + (31 * t + 7 * i) % 500;
                }
                Session a = gpu.newSession(16, plans.get(i));
                Session b = gpu.newSession(16, plans.get(i));
                tokens[i] = Sampler.argmax(a.prefill(PromptInput.tokens(prompt)));
                b.prefill(PromptInput.tokens(prompt));
                alone.add(a);
                together.add(b);
            }
            for (int step = 0; step < 2; step++) {
                float[][] batched = gpu.decodeBatch(together, tokens);
                for (int i = 0; i < tokens.length; i++) {
                    float[] single = alone.get(i).decode(tokens[i]);
                    assertArrayEquals(single, batched[i], "sequence " + i + " step " + step);
                    tokens[i] = Sampler.argmax(single);
                }
            }
        }
    }
}

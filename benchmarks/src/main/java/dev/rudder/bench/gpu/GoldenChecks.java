package dev.rudder.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.runtime.backend.Backend;
import dev.rudder.runtime.io.SafeTensorsFile;
import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.sample.Sampler;
import dev.rudder.runtime.steer.Gate;
import dev.rudder.runtime.steer.SteeringPlan;
import dev.rudder.runtime.steer.SteeringReport;
import dev.rudder.steering.apply.SteeringSpec;
import dev.rudder.steering.extract.VectorExtractor;
import dev.rudder.steering.vectors.ControlVectorGguf;
import dev.rudder.steering.vectors.LayerRange;
import dev.rudder.steering.vectors.SafetensorsVectors;
import dev.rudder.steering.vectors.SteeringVectors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Random;

/**
 * The golden cases of ../shared/golden (logits, steering apply, extraction) on the CUDA backend
 * at tolerance 1e-3, greedy ids identical up to the first step whose reference top-2 margin is
 * below twice that; and the plan identities, bit for bit.
 */
final class GoldenChecks {
    static final float TOL = 1e-3f;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path data;
    private final Backend.Factory backend;
    private final GpuCheck.Report report;

    /** {@code backend}: the CUDA backend (or the CPU one, to check this harness and the data without a GPU). */
    GoldenChecks(Path data, Backend.Factory backend, GpuCheck.Report report) {
        this.data = data;
        this.backend = backend;
        this.report = report;
    }

    private Model cuda(Path dir) {
        return Model.load(dir, 1, null, backend);
    }

    void run() throws IOException {
        report.guard("sessions outliving their model", () -> sessionsOutlivingModel(data.resolve("models/tiny-llama-f32")));
        JsonNode index = JSON.readTree(data.resolve("golden/logits/index.json").toFile());
        for (Iterator<String> it = index.get("models").fieldNames(); it.hasNext(); ) {
            String name = it.next();
            Path dir = data.resolve(index.get("models").get(name).get("model_dir").asText());
            if (!Files.isDirectory(dir)) {
                report.check(false, name + ": model folder missing from the data");
                continue;
            }
            report.guard(name + " logits", () -> logits(name, dir));
            report.guard(name + " plan identities", () -> identities(name, dir));
        }
        report.guard("decode steps replayed as CUDA graphs", () -> graphReplay(data.resolve("models/tiny-llama3-bf16")));
        report.guard("open gate, probes and vectors: CUDA vs CPU", () -> cudaVersusCpu(data.resolve("models/tiny-llama3-bf16")));
        apply("tiny-llama-f32", "models/tiny-llama-f32", List.of("none", "all", "prompt"));
        apply("rudder-chat-target", "models/rudder-chat/target", List.of("none", "all", "prompt", "attn"));
        report.guard("extraction rudder-chat-target", this::extraction);
    }

    /**
     * Sessions nobody closed, dropped after their model closed, are freed by Cleaners: that must
     * not reach the driver for streams and memory the closed context took with it (it once
     * crashed the process in cuStreamDestroy). A crash here ends the run after the line below.
     */
    private void sessionsOutlivingModel(Path dir) throws InterruptedException {
        System.out.println("checking sessions dropped after their model closed (a crash here is a failure)");
        List<Session> sessions = new ArrayList<>();
        try (Model m = cuda(dir)) {
            for (int i = 0; i < 3; i++) {
                Session s = m.newSession(16);
                s.prefill(PromptInput.tokens(new int[] {1, 2, 3 + i}));
                sessions.add(s);
            }
        }
        sessions.clear();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        try (Model m = cuda(dir)) {
            float[] logits = m.newSession(16).prefill(PromptInput.tokens(new int[] {1, 2, 3}));
            report.check(logits.length > 0, "sessions dropped after their model closed were freed without a crash; a new model runs");
        }
    }

    /**
     * Greedy decode with repeated steps replayed as CUDA graphs gives the logits of launching
     * every kernel one by one, bit for bit (steps repeat launch for launch; the graph must replay
     * exactly them, positions coming from the device's row table).
     */
    private void graphReplay(Path dir) {
        float[][] direct = greedyLogits(dir, false);
        float[][] graphs = greedyLogits(dir, true);
        int same = 0;
        while (same < direct.length && Arrays.equals(direct[same], graphs[same])) {
            same++;
        }
        report.check(same == direct.length, "decode with CUDA graphs = kernels launched one by one, bit for bit: "
                + same + "/" + direct.length + " steps");
    }

    private float[][] greedyLogits(Path dir, boolean graphs) {
        dev.rudder.runtime.cuda.CudaGpu.useGraphs(graphs);
        try (Model m = cuda(dir)) {
            float[][] out = new float[48][];
            Session s = m.newSession(64);
            float[] logits = s.prefill(PromptInput.tokens(new int[] {1, 15, 27, 300, 42, 7, 99}));
            for (int i = 0; i < out.length; i++) {
                out[i] = logits.clone();
                logits = s.decode(Sampler.argmax(logits));
            }
            return out;
        } finally {
            dev.rudder.runtime.cuda.CudaGpu.useGraphs(true);
        }
    }

    // ---------------------------------------------------------------- golden logits

    private void logits(String name, Path dir) throws IOException {
        JsonNode exp = JSON.readTree(data.resolve("golden/logits/" + name + "/expected.json").toFile());
        try (Model m = cuda(dir); SafeTensorsFile golden = SafeTensorsFile.open(data.resolve("golden/logits/" + name + "/logits.safetensors"))) {
            for (String p : List.of("p1", "p7", "p33")) {
                JsonNode pj = exp.get("prompts").get(p);
                int[] greedy = ints(pj.get("greedy"));
                Session s = m.newSession(pj.get("ids").size() + greedy.length);
                float[] logits = s.prefill(PromptInput.tokens(ints(pj.get("ids"))));
                float d = maxAbsDiff(golden.tensor(p + ".last").toFloats(), 0, logits, logits.length);
                report.check(d <= TOL, String.format("%s %s last logits: max abs diff %.2e", name, p, d));
                int[] got = new int[greedy.length];
                for (int i = 0; i < greedy.length; i++) {
                    got[i] = Sampler.argmax(logits);
                    if (i + 1 < greedy.length) {
                        logits = s.decode(got[i]);
                    }
                }
                greedy(name + " " + p, greedy, got, floats(pj.get("greedy_top2_margin")));
            }
            int[] p7 = ints(exp.get("prompts").get("p7").get("ids"));
            float[][] rows = m.newSession(16).prefillAllLogits(PromptInput.tokens(p7));
            float[] want = golden.tensor("p7.all").toFloats();
            float worst = 0;
            for (int r = 0; r < rows.length; r++) {
                worst = Math.max(worst, maxAbsDiff(want, r * rows[r].length, rows[r], rows[r].length));
            }
            report.check(worst <= TOL, String.format("%s p7 logits at every position: max abs diff %.2e", name, worst));
        }
    }

    /** Greedy ids equal up to the first step where the reference margin is too small to decide. */
    private void greedy(String what, int[] want, int[] got, float[] margins) {
        int decided = want.length;
        for (int i = 0; i < want.length; i++) {
            if (margins[i] < 2 * TOL) {
                decided = i;
                break;
            }
        }
        boolean same = Arrays.equals(Arrays.copyOf(want, decided), Arrays.copyOf(got, decided));
        report.check(same, what + " greedy ids: " + (same ? "identical" : "DIFFER") + " for " + decided + "/" + want.length
                + (decided < want.length ? " (then a reference margin below " + 2 * TOL + ")" : "")
                + (Arrays.equals(want, got) ? "" : "; got " + Arrays.toString(got)));
    }

    // ---------------------------------------------------------------- identities

    private static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    private static float[][] run(Model m, SteeringPlan plan, int[] prompt, int steps, SteeringReport[] rep) {
        Session s = m.newSession(prompt.length + steps + 1, plan);
        float[][] out = new float[steps + 1][];
        out[0] = s.prefill(PromptInput.tokens(prompt)).clone();
        for (int i = 1; i <= steps; i++) {
            out[i] = s.decode(Sampler.argmax(out[i - 1])).clone();
        }
        if (rep != null) {
            rep[0] = s.report();
        }
        return out;
    }

    /** Empty plan and a closed gate (vectors on every layer, all positions) = the plain model, bit for bit. */
    private void identities(String name, Path dir) {
        try (Model m = cuda(dir)) {
            int layers = m.config().numLayers();
            int hidden = m.config().hiddenSize();
            int[] prompt = {1, 17, 300, 42, 99, 5, 77, 8, 123};
            float[][] plain = run(m, SteeringPlan.NONE, prompt, 8, null);
            float[][] empty = run(m, SteeringPlan.builder(layers).build(), prompt, 8, null);
            report.check(Arrays.deepEquals(plain, empty), name + " empty plan = plain model, bit for bit");
            SteeringPlan.Builder b = SteeringPlan.builder(layers).positions(SteeringPlan.Positions.ALL);
            for (int l = 0; l < layers; l++) {
                b.blockOutput(l, random(hidden, l), 4f);
            }
            SteeringReport[] rep = new SteeringReport[1];
            float[][] closed = run(m, b.gate(new Gate(layers - 1, random(hidden, 99), -1e30f)).build(), prompt, 8, rep);
            report.check(Arrays.deepEquals(plain, closed) && !rep[0].gateOpen(),
                    name + " closed gate = plain model, bit for bit (gate score " + rep[0].gateScore() + ")");
        }
    }

    /** An open gate with vectors and probes: CUDA logits, gate score and probe readings vs the CPU backend. */
    private void cudaVersusCpu(Path dir) {
        try (Model gpu = cuda(dir); Model cpu = Model.load(dir, 2, null)) {
            int layers = cpu.config().numLayers();
            int hidden = cpu.config().hiddenSize();
            float[] v = random(hidden, 1);
            SteeringPlan plan = SteeringPlan.builder(layers).blockOutput(1, v, 5f).afterAttention(0, random(hidden, 2), 2f)
                    .probe(layers - 1, random(hidden, 3)).gate(new Gate(0, v, 1e30f)).build();
            int[] prompt = {1, 17, 300, 42, 99, 5, 77};
            SteeringReport[] rg = new SteeringReport[1];
            SteeringReport[] rc = new SteeringReport[1];
            float[][] a = run(gpu, plan, prompt, 8, rg);
            float[][] b = run(cpu, plan, prompt, 8, rc);
            float worst = 0;
            for (int i = 0; i < a.length; i++) {
                worst = Math.max(worst, maxAbsDiff(a[i], 0, b[i], b[i].length));
            }
            float probe = Math.abs(rg[0].probeScores()[layers - 1] - rc[0].probeScores()[layers - 1]);
            report.check(worst <= TOL && rg[0].gateOpen() && probe <= TOL * Math.max(1, Math.abs(rc[0].probeScores()[layers - 1])),
                    String.format("open gate + vectors + probe, CUDA vs CPU: logits %.2e, probe %.2e, gate open %b",
                            worst, probe, rg[0].gateOpen()));
        }
    }

    // ---------------------------------------------------------------- steering goldens

    private void apply(String name, String modelDir, List<String> cases) throws IOException {
        Path dir = data.resolve(modelDir);
        if (!Files.isDirectory(dir)) {
            report.check(false, "steering " + name + ": model folder missing from the data");
            return;
        }
        JsonNode exp = JSON.readTree(data.resolve("golden/steering/apply/expected.json").toFile()).get(name);
        try (Model m = cuda(dir)) {
            for (String c : cases) {
                for (String format : c.equals("none") ? List.of("-") : List.of("safetensors", "gguf")) {
                    report.guard("steering " + name + " " + c + " " + format, () -> applyCase(m, name, exp, c, format));
                }
            }
        }
    }

    private void applyCase(Model m, String name, JsonNode exp, String c, String format) {
        int[] prompt = ints(exp.get("prompt_ids"));
        JsonNode cj = exp.get("cases").get(c);
        int[] greedy = ints(cj.get("greedy"));
        Path base = data.resolve("golden/steering/apply/" + name);
        SteeringPlan plan = SteeringPlan.NONE;
        if (!c.equals("none")) {
            SteeringVectors vectors = format.equals("gguf")
                    ? ControlVectorGguf.read(Path.of(base + ".controlvector.gguf"))
                    : SafetensorsVectors.read(Path.of(base + ".vectors.safetensors"));
            plan = new SteeringSpec(vectors, exp.get("scale").asDouble(), new LayerRange(vectors.firstLayer(), vectors.lastLayer()),
                    false, c.equals("attn") ? SteeringSpec.Point.AFTER_ATTENTION : SteeringSpec.Point.BLOCK_OUTPUT,
                    c.equals("prompt") ? SteeringPlan.Positions.PROMPT : SteeringPlan.Positions.ALL, null).toPlan(m.config());
        }
        try (SafeTensorsFile golden = SafeTensorsFile.open(Path.of(base + ".logits.safetensors"))) {
            float[] full = golden.find(c + ".logits").isPresent() ? golden.tensor(c + ".logits").toFloats() : new float[0];
            float[] topIds = golden.tensor(c + ".topk_ids").toFloats();
            float[] topLogits = golden.tensor(c + ".topk_logits").toFloats();
            int vocab = m.config().vocabSize();
            Session s = m.newSession(prompt.length + greedy.length, plan);
            float[][] rows = s.prefillAllLogits(PromptInput.tokens(prompt));
            float worst = 0;
            List<float[]> all = new ArrayList<>(Arrays.asList(rows));
            int[] got = new int[greedy.length];
            float[] logits = rows[rows.length - 1];
            for (int i = 0; i < greedy.length; i++) {
                got[i] = Sampler.argmax(logits);
                if (i + 1 < greedy.length) {
                    logits = s.decode(got[i]).clone();
                    all.add(logits);
                }
            }
            for (int r = 0; r < all.size(); r++) {
                float[] row = all.get(r);
                if ((long) (r + 1) * vocab <= full.length) {
                    worst = Math.max(worst, maxAbsDiff(full, r * vocab, row, vocab));
                }
                for (int j = 0; j < 16; j++) {
                    worst = Math.max(worst, Math.abs(row[(int) topIds[r * 16 + j]] - topLogits[r * 16 + j]));
                }
            }
            report.check(worst <= TOL, String.format("steering %s %s %s logits: max abs diff %.2e", name, c, format, worst));
            greedy("steering " + name + " " + c + " " + format, greedy, got, floats(cj.get("margins")));
        }
    }

    private void extraction() throws IOException {
        Path dir = data.resolve("models/rudder-chat/target");
        JsonNode prompts = JSON.readTree(data.resolve("golden/steering/extraction/prompts.json").toFile());
        SteeringVectors golden = SafetensorsVectors.read(data.resolve("golden/steering/extraction/rudder-chat-target.mean_diff.safetensors"));
        try (Model m = cuda(dir)) {
            for (int batch : new int[] {1, 16}) {
                SteeringVectors got = VectorExtractor.extract(m, idLists(prompts.get("harmful")), idLists(prompts.get("harmless")),
                        VectorExtractor.Method.MEAN, null, batch, null);
                double worst = 0;
                for (int l : golden.layers()) {
                    float[] want = golden.vector(l);
                    worst = Math.max(worst, maxAbsDiff(want, 0, got.vector(l), want.length) / golden.norm(l));
                }
                report.check(Arrays.equals(golden.layers(), got.layers()) && worst <= TOL,
                        String.format("extraction rudder-chat-target, %d prompt(s) per pass: max diff / norm %.2e", batch, worst));
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private static List<int[]> idLists(JsonNode arr) {
        List<int[]> out = new ArrayList<>();
        arr.forEach(p -> out.add(ints(p.get("ids"))));
        return out;
    }

    static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asInt();
        }
        return out;
    }

    private static float[] floats(JsonNode arr) {
        float[] out = new float[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) arr.get(i).asDouble();
        }
        return out;
    }

    private static float maxAbsDiff(float[] a, int aOff, float[] b, int n) {
        float max = 0;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, Math.abs(a[aOff + i] - b[i]));
        }
        return max;
    }
}

package dev.rudder.steering.quant;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.io.ModelFiles;
import dev.rudder.runtime.io.gguf.GgufFile;
import dev.rudder.runtime.io.gguf.GgufModelWriter;
import dev.rudder.runtime.io.gguf.GgufNames;
import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.steer.SteeringPlan;
import dev.rudder.steering.delta.AlignmentDelta;
import dev.rudder.steering.delta.DeltaSet;
import dev.rudder.steering.extract.VectorExtractor;
import dev.rudder.steering.vectors.SteeringVectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Steering on quantized models (rudder-chat, its Q8_0 GGUF written by Rudder: llama.cpp's q/k row order): vectors
 * extracted on the float model apply to the quantized one, probes read the same, and alignment-vector deltas merge
 * into a quantized base the documented way (touched tensors dequantized exactly, merged in float32, kept float32).
 */
class QuantizedSteeringTest {
    static final Path CHAT = Path.of(System.getProperty("rudder.shared", "../../shared")).toAbsolutePath()
            .resolve("models/rudder-chat");

    @TempDir
    static Path tmp;

    static Path q8(String name) throws IOException {
        Path out = tmp.resolve(name + "-q8_0.gguf");
        try (ModelFiles f = ModelFiles.open(CHAT.resolve(name))) {
            GgufModelWriter.write(f.config(), f.store(), "Q8_0", Map.of(), name, out);
        }
        return out;
    }

    static List<int[]> prompts(long seed) {
        Random r = new Random(seed);
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            int[] ids = new int[5 + r.nextInt(6)];
            for (int j = 0; j < ids.length; j++) {
                ids[j] = 3 + r.nextInt(4000);
            }
            out.add(ids);
        }
        return out;
    }

    static double cosine(float[] a, float[] b) {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += a[i] * b[i];
            aa += a[i] * a[i];
            bb += b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }

    static float[] minus(float[] a, float[] b) {
        float[] d = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i] - b[i];
        }
        return d;
    }

    static float maxAbsDiff(float[] a, float[] b) {
        float m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    static Path targetQ8;

    @BeforeAll
    static void quantize() throws IOException {
        targetQ8 = q8("target");
    }

    @Test
    void vectorsFromTheFloatModelSteerItsQuantizedForm() {
        int[] prompt = {0, 1, 77, 512, 9, 1400, 33};
        try (Model f32 = Model.load(CHAT.resolve("target"), 1, null); Model q8 = Model.load(targetQ8, 1, null)) {
            SteeringVectors vf = VectorExtractor.extract(f32, prompts(1), prompts(2), VectorExtractor.Method.MEAN, null, null);
            SteeringVectors vq = VectorExtractor.extract(q8, prompts(1), prompts(2), VectorExtractor.Method.MEAN, null, null);
            for (int l : vf.layers()) {
                assertTrue(cosine(vf.vector(l), vq.vector(l)) > 0.99, "layer " + l + " vectors differ between F32 and Q8_0");
            }
            SteeringPlan plan = SteeringPlan.builder(f32.config().numLayers())
                    .blockOutput(2, vf.vector(2), 4f).probe(4, vf.vector(4)).build();
            Session fs = f32.newSession(16, plan);
            float[] steeredF = fs.prefill(PromptInput.tokens(prompt));
            float[] plainF = f32.newSession(16).prefill(PromptInput.tokens(prompt));
            Session qs = q8.newSession(16, plan);
            float[] steeredQ = qs.prefill(PromptInput.tokens(prompt));
            float[] plainQ = q8.newSession(16).prefill(PromptInput.tokens(prompt));
            // the vector moves the quantized model's logits the way it moves the float model's
            assertTrue(maxAbsDiff(steeredF, plainF) > 0.5f, "the vector must matter");
            assertTrue(cosine(minus(steeredF, plainF), minus(steeredQ, plainQ)) > 0.98);
            float pf = fs.report().probeScores()[4];
            float pq = qs.report().probeScores()[4];
            assertEquals(pf, pq, 0.02 * Math.abs(pf) + 1e-3, "probe reading");
        }
    }

    @Test
    void deltasOnAQuantizedBaseMergeIntoDequantizedFloatTensors() throws IOException {
        Path delta = tmp.resolve("delta.safetensors");
        AlignmentDelta.compute(CHAT.resolve("aligned"), CHAT.resolve("base"), delta);
        Path baseQ8 = q8("base");
        int[] prompt = {0, 1, 77, 512, 9, 1400, 33};
        DeltaSet deltas = DeltaSet.open(delta, 1f);
        deltas.checkCompatible(baseQ8);
        try (Model merged = Model.load(baseQ8, 1, deltas); Model base = Model.load(baseQ8, 1, null);
             GgufFile g = GgufFile.open(baseQ8);
             dev.rudder.runtime.io.SafeTensorsFile d = dev.rudder.runtime.io.SafeTensorsFile.open(delta)) {
            // the documented merge, row by row: dequantized Q8_0 base (pair order) + the HF delta row it corresponds to
            int headDim = merged.config().headDim();
            int cols = merged.config().hiddenSize();
            float[] baseQ = g.readFloats(g.tensor("blk.0.attn_q.weight"));
            float[] dq = d.tensor("model.layers.0.self_attn.q_proj.weight").toFloats();
            float[] row = new float[cols];
            assertEquals(DType.F32, merged.weights().layer(0).wq().dtype());
            assertEquals(DType.Q8_0, base.weights().layer(0).wq().dtype());
            for (int r = 0; r < merged.config().qDim(); r++) {
                merged.weights().layer(0).wq().readRow(r, row, 0);
                int hf = GgufNames.hfRowOfPairRow(r, headDim);
                for (int c = 0; c < cols; c++) {
                    assertEquals(baseQ[r * cols + c] + dq[hf * cols + c], row[c], 0f, "row " + r + " col " + c);
                }
            }
            // and the merged quantized base behaves like the aligned model
            float[] lm = merged.newSession(16).prefill(PromptInput.tokens(prompt));
            float[] lb = base.newSession(16).prefill(PromptInput.tokens(prompt));
            float[] la;
            try (Model aligned = Model.load(CHAT.resolve("aligned"), 1, null)) {
                la = aligned.newSession(16).prefill(PromptInput.tokens(prompt));
            }
            assertTrue(maxAbsDiff(lm, la) < 0.25f * maxAbsDiff(lb, la),
                    "merged " + maxAbsDiff(lm, la) + " vs base " + maxAbsDiff(lb, la) + " from the aligned logits");
        }
    }
}

package dev.rudder.runtime.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.runtime.SharedData;
import dev.rudder.runtime.io.gguf.GgmlType;
import dev.rudder.runtime.io.gguf.GgufFile;
import dev.rudder.runtime.io.gguf.GgufTensor;
import dev.rudder.runtime.io.gguf.GgufValue;
import dev.rudder.runtime.io.gguf.GgufWriter;
import dev.rudder.runtime.sample.Sampler;
import dev.rudder.runtime.tensor.GgmlReferenceQuantizer;
import dev.rudder.runtime.tensor.Iq4XsQuantizer;
import dev.rudder.runtime.tensor.LowBitKQuantizer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GGUF models holding Q4_1, Q5_0, Q5_1, IQ4_NL, IQ4_XS, Q2_K or Q3_K matrices (the golden set has none): the tiny llama.cpp
 * model of {@code ../shared/models/tiny-quant-gguf} (F16) with every matrix quantized by ggml's reference quantizers
 * ({@link GgmlReferenceQuantizer}, transcribed from ggml-quants.c) or, for Q2_K and Q3_K, packed in ggml's layout by
 * a plain round-to-nearest quantizer ({@link LowBitKQuantizer}; IQ4_XS: {@link Iq4XsQuantizer}), against the same model whose matrices are F32
 * holding the values those blocks stand for (computed by the quantizer from its integers and f16 scales, not read
 * back). Float32 activations on both, so the README's golden tolerances apply: |logit - reference| <= 2e-4 after the
 * prompt (prefill: the matmul path) and at every decode step (matvec: the fused kernels), and the same greedy ids
 * wherever the reference's top-2 margin exceeds 1e-3.
 */
class LegacyQuantGgufLogitsTest {
    static final Path SOURCE = SharedData.model("tiny-quant-gguf").resolve("tiny-quant-F16.gguf");

    @TempDir
    static Path tmp;

    /** Writes the source model with its matrices as {@code type} and, as {@code reference}, as their F32 values. */
    static void write(String type, Path quantized, Path reference) throws IOException {
        try (GgufFile src = GgufFile.open(SOURCE)) {
            GgufWriter q = new GgufWriter();
            GgufWriter f = new GgufWriter();
            for (Map.Entry<String, GgufValue> e : src.metadata().entrySet()) {
                q.put(e.getKey(), e.getValue());
                f.put(e.getKey(), e.getValue());
            }
            for (GgufTensor t : src.tensors()) {
                float[] x = src.readFloats(t);
                if (t.dims().length == 2) {
                    GgmlReferenceQuantizer.Quantized b = type.equals("IQ4_XS") ? Iq4XsQuantizer.quantize(x)
                            : type.endsWith("_K") ? LowBitKQuantizer.quantize(type, x) : GgmlReferenceQuantizer.quantize(type, x);
                    q.add(t.name(), GgmlType.valueOf(type), () -> MemorySegment.ofArray(b.blocks()), t.dims());
                    f.addF32(t.name(), b.values(), t.dims());
                } else {
                    q.addF32(t.name(), x, t.dims());
                    f.addF32(t.name(), x, t.dims());
                }
            }
            q.write(quantized);
            f.write(reference);
        }
    }

    static int[][] prompts() throws IOException {
        JsonNode p = new ObjectMapper().readTree(SharedData.golden("quant", "F16", "expected.json").toFile())
                .get("prompts");
        int[][] out = new int[3][];
        String[] names = {"p1", "p7", "p33"};
        for (int k = 0; k < 3; k++) {
            JsonNode ids = p.get(names[k]).get("ids");
            out[k] = new int[ids.size()];
            for (int i = 0; i < out[k].length; i++) {
                out[k][i] = ids.get(i).asInt();
            }
        }
        return out;
    }

    static float maxDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    static float top2Margin(float[] logits) {
        float first = Float.NEGATIVE_INFINITY;
        float second = Float.NEGATIVE_INFINITY;
        for (float v : logits) {
            if (v > first) {
                second = first;
                first = v;
            } else if (v > second) {
                second = v;
            }
        }
        return first - second;
    }

    @ParameterizedTest(name = "{0}: logits within 2e-4 of the F32 model of the same values, greedy ids equal")
    @ValueSource(strings = {"Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "IQ4_XS", "Q2_K", "Q3_K"})
    void logitsMatchTheModelOfTheExactValues(String type) throws IOException {
        Path qFile = tmp.resolve("tiny-" + type + ".gguf");
        Path fFile = tmp.resolve("tiny-" + type + "-values-F32.gguf");
        write(type, qFile, fFile);
        int steps = 16;
        int checked = 0;
        try (Model quantized = Model.load(qFile, 2, null); Model reference = Model.load(fFile, 2, null)) {
            assertEquals(type, quantized.weights().layer(0).wq().dtype().name(),
                    "the file holds " + type + " matrices");
            for (int[] ids : prompts()) {
                Session qs = quantized.newSession(ids.length + steps);
                Session fs = reference.newSession(ids.length + steps);
                float[] ql = qs.prefill(PromptInput.tokens(ids)).clone();
                float[] fl = fs.prefill(PromptInput.tokens(ids)).clone();
                for (int step = 0; step <= steps; step++) {
                    float d = maxDiff(ql, fl);
                    assertTrue(d <= 2e-4f,
                            type + " prompt of " + ids.length + " step " + step + ": max |logit - ref| = " + d);
                    int want = Sampler.argmax(fl);
                    if (top2Margin(fl) > 1e-3f) {
                        assertEquals(want, Sampler.argmax(ql), type + " prompt of " + ids.length + " step " + step);
                        checked++;
                    }
                    if (step < steps) {
                        ql = qs.decode(want).clone();
                        fl = fs.decode(want).clone();
                    }
                }
            }
        }
        assertTrue(checked > 20, "greedy steps with a margin over 1e-3: " + checked);
    }
}

package dev.rudder.runtime.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.runtime.SharedData;
import dev.rudder.runtime.io.SafeTensorsFile;
import dev.rudder.runtime.sample.Sampler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GGUF models quantized by llama.cpp ({@code ../shared/models/tiny-quant-gguf}) against
 * {@code ../shared/golden/quant}. Rudder keeps activations in float32 (dequantize, then FMA), so this checks the
 * {@code ref} logits (exact float32 arithmetic on the exactly dequantized weights) at the README's 2e-4, and greedy ids
 * against {@code greedy_ref} wherever the top-2 margin exceeds 1e-3 — not llama.cpp's own logits, which quantize the
 * activations too.
 */
class GgufGoldenLogitsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, Model> MODELS = new HashMap<>();
    static final String[] TYPES = {"F16", "Q8_0", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K"};

    static Path file(String type) {
        return SharedData.model("tiny-quant-gguf").resolve("tiny-quant-" + type + ".gguf");
    }

    static Stream<Arguments> typePrompts() {
        return Stream.of(TYPES).flatMap(t -> Stream.of("p1", "p7", "p33").map(p -> Arguments.of(t, p)));
    }

    @AfterAll
    static void close() {
        MODELS.values().forEach(Model::close);
        MODELS.clear();
    }

    private static Model model(String type) {
        return MODELS.computeIfAbsent(type, t -> Model.load(file(t), 2, null));
    }

    private static JsonNode prompt(String type, String prompt) throws IOException {
        return JSON.readTree(SharedData.golden("quant", type, "expected.json").toFile()).get("prompts").get(prompt);
    }

    private static int[] ids(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asInt();
        }
        return out;
    }

    static float[] golden(String type, String tensor) {
        try (SafeTensorsFile f = SafeTensorsFile.open(SharedData.golden("quant", type, "logits.safetensors"))) {
            return f.tensor(tensor).data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
        }
    }

    @ParameterizedTest(name = "{0} {1}: float32-activation logits within 2e-4 of the dequantized reference")
    @MethodSource("typePrompts")
    void logitsMatchTheExactlyDequantizedReference(String type, String prompt) throws IOException {
        float[] logits = model(type).newSession(64).prefill(PromptInput.tokens(ids(prompt(type, prompt).get("ids"))));
        float[] want = golden(type, "ref." + prompt + ".last");
        assertEquals(want.length, logits.length);
        float max = 0;
        for (int i = 0; i < want.length; i++) {
            max = Math.max(max, Math.abs(want[i] - logits[i]));
        }
        assertTrue(max <= 2e-4f, type + " " + prompt + ": max |logit - ref| = " + max);
    }

    @ParameterizedTest(name = "{0} {1}: greedy ids equal greedy_ref where the margin exceeds 1e-3")
    @MethodSource("typePrompts")
    void greedyContinuationFollowsTheReference(String type, String prompt) throws IOException {
        JsonNode p = prompt(type, prompt);
        int[] want = ids(p.get("greedy_ref"));
        JsonNode margins = p.get("greedy_top2_margin");
        Session s = model(type).newSession(p.get("ids").size() + want.length);
        float[] logits = s.prefill(PromptInput.tokens(ids(p.get("ids"))));
        for (int i = 0; i < want.length; i++) {
            int got = Sampler.argmax(logits);
            if (margins.get(i).asDouble() > 1e-3) {
                assertEquals(want[i], got, type + " " + prompt + " step " + i);
            }
            // follow the reference's ids so a near tie that went the other way does not derail the later steps
            logits = s.decode(want[i]);
        }
    }

    @ParameterizedTest(name = "{0}: prefill (matmul) and token-by-token decode (matvec) agree within 1e-4")
    @ValueSource(strings = {"Q8_0", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K"})
    void decodeAndPrefillAgree(String type) throws IOException {
        int[] ids = ids(prompt(type, "p7").get("ids"));
        Session a = model(type).newSession(16);
        float[] prefill = a.prefill(PromptInput.tokens(ids));
        Session b = model(type).newSession(16);
        float[] step = null;
        for (int id : ids) {
            step = b.prefill(PromptInput.tokens(new int[] {id}));
        }
        float max = 0;
        for (int i = 0; i < prefill.length; i++) {
            max = Math.max(max, Math.abs(prefill[i] - step[i]));
        }
        assertTrue(max <= 1e-4f, type + ": prefill (matmul) vs token-by-token (matvec) differ by " + max);
    }
}

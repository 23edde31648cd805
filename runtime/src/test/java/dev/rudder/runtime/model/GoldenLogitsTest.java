package dev.rudder.runtime.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.runtime.SharedData;
import dev.rudder.runtime.io.SafeTensorsFile;
import dev.rudder.runtime.io.TensorInfo;
import dev.rudder.runtime.sample.Sampler;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Logits and greedy continuations against ../shared/golden/logits (an independent PyTorch
 * implementation cross-checked with llama.cpp and llama2.c), at the tolerance its README gives.
 */
class GoldenLogitsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, Model> MODELS = new HashMap<>();

    static Stream<String> models() throws IOException {
        JsonNode index = JSON.readTree(SharedData.golden("logits", "index.json").toFile());
        List<String> names = new ArrayList<>();
        index.get("models").fieldNames().forEachRemaining(names::add);
        return names.stream();
    }

    static Stream<org.junit.jupiter.params.provider.Arguments> modelPrompts() throws IOException {
        return models().flatMap(m -> Stream.of("p1", "p7", "p33")
                .map(p -> org.junit.jupiter.params.provider.Arguments.of(m, p)));
    }

    @BeforeAll
    static void checkData() {
        SharedData.root();
    }

    @AfterAll
    static void closeModels() {
        MODELS.values().forEach(Model::close);
        MODELS.clear();
    }

    private static Model model(String name) throws IOException {
        Model m = MODELS.get(name);
        if (m == null) {
            JsonNode index = JSON.readTree(SharedData.golden("logits", "index.json").toFile());
            String dir = index.get("models").get(name).get("model_dir").asText();
            m = Model.load(SharedData.root().resolve(dir), 2, null);
            MODELS.put(name, m);
        }
        return m;
    }

    private static JsonNode expected(String name) throws IOException {
        return JSON.readTree(SharedData.golden("logits", name, "expected.json").toFile());
    }

    private static int[] ids(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asInt();
        }
        return out;
    }

    private static float[] floats(TensorInfo t) {
        return t.data().toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN));
    }

    private static float maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length, "length");
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    @ParameterizedTest(name = "{0} {1} last-position logits")
    @MethodSource("modelPrompts")
    void lastPositionLogitsMatchReference(String name, String prompt) throws IOException {
        Model m = model(name);
        JsonNode p = expected(name).get("prompts").get(prompt);
        float[] logits = m.newSession(64).prefill(PromptInput.tokens(ids(p.get("ids"))));
        try (SafeTensorsFile golden = SafeTensorsFile.open(SharedData.golden("logits", name, "logits.safetensors"))) {
            float[] want = floats(golden.tensor(prompt + ".last"));
            float diff = maxAbsDiff(want, logits);
            assertTrue(diff <= 1e-4f, name + " " + prompt + ": max abs logit diff " + diff + " > 1e-4");
        }
        assertEquals(p.get("last_argmax").asInt(), Sampler.argmax(logits), "argmax");
    }

    @ParameterizedTest(name = "{0} p7 all-position logits")
    @MethodSource("models")
    void allPositionLogitsMatchReference(String name) throws IOException {
        Model m = model(name);
        JsonNode p = expected(name).get("prompts").get("p7");
        float[][] rows = m.newSession(16).prefillAllLogits(PromptInput.tokens(ids(p.get("ids"))));
        try (SafeTensorsFile golden = SafeTensorsFile.open(SharedData.golden("logits", name, "logits.safetensors"))) {
            float[] want = floats(golden.tensor("p7.all"));
            int vocab = rows[0].length;
            assertEquals(7 * vocab, want.length);
            for (int r = 0; r < 7; r++) {
                float[] wantRow = java.util.Arrays.copyOfRange(want, r * vocab, (r + 1) * vocab);
                float diff = maxAbsDiff(wantRow, rows[r]);
                assertTrue(diff <= 1e-4f, name + " p7 row " + r + ": max abs logit diff " + diff);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1} greedy continuation")
    @MethodSource("modelPrompts")
    void greedyContinuationIsIdentical(String name, String prompt) throws IOException {
        Model m = model(name);
        JsonNode p = expected(name).get("prompts").get(prompt);
        int[] want = ids(p.get("greedy"));
        Session s = m.newSession(p.get("ids").size() + want.length);
        float[] logits = s.prefill(PromptInput.tokens(ids(p.get("ids"))));
        int[] got = new int[want.length];
        for (int i = 0; i < want.length; i++) {
            got[i] = Sampler.argmax(logits);
            if (i + 1 < want.length) {
                logits = s.decode(got[i]);
            }
        }
        assertArrayEquals(want, got, name + " " + prompt + " greedy ids");
    }
}

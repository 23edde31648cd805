package dev.rudder.runtime.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.runtime.SharedData;
import dev.rudder.runtime.backend.KvCacheType;
import dev.rudder.runtime.backend.KvCacheTypes;
import dev.rudder.runtime.backend.cpu.CpuBackend;
import dev.rudder.runtime.io.SafeTensorsFile;
import dev.rudder.runtime.sample.Sampler;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An F16 KV cache (llama.cpp's default) against the independent reference's goldens, which assume a float32 cache:
 * every greedy continuation is still the reference's (the goldens' smallest top-2 margin is 1.8e-3), while the
 * logits move by more than float32 noise (the goldens' 1e-4), so the cache really rounds. Whether the 16-bit path
 * computes attention exactly on the rounded values is {@code SixteenBitKvCacheTest}'s part.
 */
class SixteenBitCacheGoldenTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final KvCacheTypes F16 = new KvCacheTypes(KvCacheType.F16, KvCacheType.F16);

    static Stream<String> models() throws IOException {
        return GoldenLogitsTest.models();
    }

    private static int[] ids(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asInt();
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("models")
    void aHalfPrecisionCacheKeepsEveryGreedyContinuation(String name) throws IOException {
        JsonNode exp = JSON.readTree(SharedData.golden("logits", name, "expected.json").toFile());
        float moved = 0;
        try (Model m = Model.load(SharedData.root().resolve(exp.get("model").asText()), 2, null, null, CpuBackend::new, F16);
             SafeTensorsFile golden = SafeTensorsFile.open(SharedData.golden("logits", name, "logits.safetensors"))) {
            for (String prompt : new String[] {"p1", "p7", "p33"}) {
                JsonNode p = exp.get("prompts").get(prompt);
                int[] want = ids(p.get("greedy"));
                Session s = m.newSession(p.get("ids").size() + want.length);
                float[] logits = s.prefill(PromptInput.tokens(ids(p.get("ids"))));
                float[] reference = golden.tensor(prompt + ".last").data()
                        .toArray(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN));
                for (int i = 0; i < reference.length; i++) {
                    moved = Math.max(moved, Math.abs(reference[i] - logits[i]));
                }
                int[] got = new int[want.length];
                for (int i = 0; i < want.length; i++) {
                    got[i] = Sampler.argmax(logits);
                    if (i + 1 < want.length) {
                        logits = s.decode(got[i]);
                    }
                }
                assertArrayEquals(want, got, name + " " + prompt + " greedy ids with an F16 cache");
            }
        }
        assertTrue(moved > 1e-4f, name + ": logits moved only " + moved + " from the float32-cache reference");
    }
}

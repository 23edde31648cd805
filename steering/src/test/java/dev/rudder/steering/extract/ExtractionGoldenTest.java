package dev.rudder.steering.extract;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rudder.runtime.model.Model;
import dev.rudder.steering.Shared;
import dev.rudder.steering.vectors.SafetensorsVectors;
import dev.rudder.steering.vectors.SteeringVectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Mean-difference extraction against ../shared/golden/steering/extraction, from the recorded prompt ids. */
class ExtractionGoldenTest {

    private static List<int[]> ids(JsonNode arr) {
        List<int[]> out = new ArrayList<>();
        arr.forEach(p -> out.add(Shared.ints(p.get("ids"))));
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"aligned", "target"})
    void meanDifferenceMatchesReferenceAndIsDeterministic(String which) {
        check(which, 1);
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 16})
    void packedPromptsGiveTheSameVectors(int batch) {
        check("aligned", batch);
    }

    private static void check(String which, int batch) {
        JsonNode prompts = Shared.json("golden/steering/extraction/prompts.json");
        SteeringVectors golden = SafetensorsVectors.read(
                Shared.path("golden/steering/extraction/rudder-chat-" + which + ".mean_diff.safetensors"));
        try (Model model = Model.load(Shared.path("models/rudder-chat/" + which), 2, null)) {
            SteeringVectors got = VectorExtractor.extract(model, ids(prompts.get("harmful")), ids(prompts.get("harmless")),
                    VectorExtractor.Method.MEAN, null, batch, null);
            assertArrayEquals(golden.layers(), got.layers());
            for (int l : golden.layers()) {
                float[] want = golden.vector(l);
                float diff = Shared.maxAbsDiff(want, 0, got.vector(l), 0, want.length);
                double tol = 1e-4 * golden.norm(l);
                assertTrue(diff <= tol, which + " layer " + l + ": max abs diff " + diff + " > " + tol);
            }
            SteeringVectors again = VectorExtractor.extract(model, ids(prompts.get("harmful")).subList(0, 8),
                    ids(prompts.get("harmless")).subList(0, 8), VectorExtractor.Method.MEAN, null, batch, null);
            SteeringVectors again2 = VectorExtractor.extract(model, ids(prompts.get("harmful")).subList(0, 8),
                    ids(prompts.get("harmless")).subList(0, 8), VectorExtractor.Method.MEAN, null, batch, null);
            assertTrue(again.sameVectors(again2), "extraction is deterministic");
        }
    }
}

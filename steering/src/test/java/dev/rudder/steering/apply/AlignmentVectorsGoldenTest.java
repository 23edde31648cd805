package dev.rudder.steering.apply;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.sample.Sampler;
import dev.rudder.steering.Shared;
import dev.rudder.steering.delta.AlignmentDelta;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Alignment vectors on rudder-chat against ../shared/golden/steering/delta: delta = aligned - base
 * computed by us, merged as start + c * delta, logits and greedy continuation of each combination.
 */
class AlignmentVectorsGoldenTest {
    @TempDir
    static Path tmp;
    static Path delta;

    @BeforeAll
    static void computeDelta() throws Exception {
        delta = tmp.resolve("delta.safetensors");
        AlignmentDelta.compute(Shared.path("models/rudder-chat/aligned"), Shared.path("models/rudder-chat/base"), delta);
    }

    /** Runs prompt + greedy sequence and returns the max logit difference to the golden rows. */
    private static float check(Model model, String name) {
        JsonNode exp = Shared.json("golden/steering/delta/expected.json");
        int[] prompt = Shared.ints(exp.get("prompt_ids"));
        int[] greedy = Shared.ints(exp.get("models").get(name).get("greedy"));
        float[] golden = Shared.tensor("golden/steering/delta/logits.safetensors", name + ".logits");
        int vocab = model.config().vocabSize();
        Session s = model.newSession(prompt.length + greedy.length);
        float[][] rows = s.prefillAllLogits(PromptInput.tokens(prompt));
        float worst = 0;
        for (int r = 0; r < prompt.length; r++) {
            worst = Math.max(worst, Shared.maxAbsDiff(golden, r * vocab, rows[r], 0, vocab));
        }
        float[] logits = rows[prompt.length - 1];
        int[] got = new int[greedy.length];
        for (int i = 0; i < greedy.length; i++) {
            got[i] = Sampler.argmax(logits);
            if (i + 1 < greedy.length) {
                logits = s.decode(got[i]);
                worst = Math.max(worst, Shared.maxAbsDiff(golden, (prompt.length + i) * vocab, logits, 0, vocab));
            }
        }
        assertArrayEquals(greedy, got, name + " greedy ids");
        return worst;
    }

    @ParameterizedTest(name = "{0}+{1}delta")
    @CsvSource({"base,1.0", "base,0.5", "target,0.5"})
    void mergedModelMatchesReference(String start, double lambda) {
        try (AlignmentVectors av = AlignmentVectors.open(List.of(delta), new double[]{lambda});
             Model model = Model.load(Shared.path("models/rudder-chat/" + start), 2, av)) {
            av.checkAllUsed();
            float worst = check(model, start + "+" + lambda + "delta");
            assertTrue(worst <= 1e-4f, "max abs logit diff " + worst);
        }
    }

    @Test
    void lambdaCanChangeOnALoadedModel() {
        try (AlignmentVectors av = AlignmentVectors.open(List.of(delta), new double[]{0.0});
             Model model = Model.load(Shared.path("models/rudder-chat/base"), 2, av)) {
            av.setLambda(0, 1.0);
            model.weights().remerge();
            float worst = check(model, "aligned");
            assertTrue(worst <= 1e-4f, "base + 1.0 delta vs aligned: max abs logit diff " + worst);
            av.setLambda(0, 0.5);
            model.weights().remerge();
            float half = check(model, "base+0.5delta");
            assertTrue(half <= 1e-4f, "re-merged to 0.5: max abs logit diff " + half);
        }
    }
}

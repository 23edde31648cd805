package dev.rudder.steering.delta;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.runtime.io.SafeTensorsFile;
import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The golden {@code delta/} cases end to end: delta computed by {@link AlignmentDelta}, merged at load time by a
 * {@link DeltaSet}, then lambda changed on the loaded model (re-merge in place) and checked again.
 */
class DeltaGoldenTest {

    static final Path SHARED = Path.of(System.getProperty("rudder.shared", "../../shared")).toAbsolutePath();
    static final Path GOLDEN = SHARED.resolve("golden/steering/delta");
    static final Path MODELS = SHARED.resolve("models/rudder-chat");

    @TempDir
    Path tmp;

    @Test
    void deltaLogitsMatchGoldenAndLambdaChangesInPlace() throws Exception {
        Path delta = tmp.resolve("d.safetensors");
        AlignmentDelta.compute(MODELS.resolve("aligned"), MODELS.resolve("base"), delta);
        JsonNode expected = new ObjectMapper().readTree(GOLDEN.resolve("expected.json").toFile());
        try (SafeTensorsFile golden = SafeTensorsFile.open(GOLDEN.resolve("logits.safetensors"))) {
            try (DeltaSet ds = DeltaSet.open(delta, 1f)) {
                ds.checkCompatible(MODELS.resolve("base"));
                try (Model m = Model.load(MODELS.resolve("base"), 2, ds)) {
                    check(m, "base+1.0delta", expected, golden);
                    ds.setLambda(0, 0.5f);
                    check(m, "base+0.5delta", expected, golden);
                    ds.setLambda(0, 1f);
                    check(m, "base+1.0delta", expected, golden);
                    ds.setLambda(0, 0.5f);
                    check(m, "base+0.5delta", expected, golden);
                }
            }
            try (DeltaSet ds = DeltaSet.open(delta, 0.5f)) {
                ds.checkCompatible(MODELS.resolve("target"));
                try (Model m = Model.load(MODELS.resolve("target"), 2, ds)) {
                    check(m, "target+0.5delta", expected, golden);
                }
            }
        }
    }

    private static void check(Model m, String name, JsonNode expected, SafeTensorsFile golden) {
        JsonNode seq = expected.get("models").get(name).get("sequence");
        int[] ids = new int[seq.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = seq.get(i).asInt();
        }
        float[] want = golden.tensor(name + ".logits").toFloats();
        int vocab = m.config().vocabSize();
        int rows = want.length / vocab;
        assertEquals(ids.length, rows);
        Session s = m.newSession(64);
        float[][] got = s.prefillAllLogits(PromptInput.tokens(ids));
        double worst = 0;
        for (int r = 0; r < rows; r++) {
            int arg = 0;
            for (int v = 0; v < vocab; v++) {
                worst = Math.max(worst, Math.abs(got[r][v] - want[r * vocab + v]));
                if (got[r][v] > got[r][arg]) {
                    arg = v;
                }
            }
            if (r >= 6 && r + 1 < rows) {
                assertEquals(ids[r + 1], arg, name + ": greedy token after row " + r);
            }
        }
        assertTrue(worst <= 1e-4, name + ": max |logit diff| " + worst);
    }
}

package dev.rudder.steering.apply;

import com.fasterxml.jackson.databind.JsonNode;
import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.sample.Sampler;
import dev.rudder.runtime.steer.SteeringPlan;
import dev.rudder.steering.Shared;
import dev.rudder.steering.vectors.ControlVectorGguf;
import dev.rudder.steering.vectors.LayerRange;
import dev.rudder.steering.vectors.SafetensorsVectors;
import dev.rudder.steering.vectors.SteeringVectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Activation steering against ../shared/golden/steering/apply (independent PyTorch reference,
 * cross-checked with llama.cpp's control vectors): every position, prompt positions only, after
 * the attention add; from our safetensors vector files and from llama.cpp GGUF files.
 */
class ApplyGoldenTest {

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("tiny-llama-f32", "models/tiny-llama-f32", "none", "safetensors"),
                Arguments.of("tiny-llama-f32", "models/tiny-llama-f32", "all", "safetensors"),
                Arguments.of("tiny-llama-f32", "models/tiny-llama-f32", "prompt", "safetensors"),
                Arguments.of("tiny-llama-f32", "models/tiny-llama-f32", "all", "gguf"),
                Arguments.of("tiny-llama-f32", "models/tiny-llama-f32", "prompt", "gguf"),
                Arguments.of("rudder-chat-target", "models/rudder-chat/target", "none", "safetensors"),
                Arguments.of("rudder-chat-target", "models/rudder-chat/target", "all", "safetensors"),
                Arguments.of("rudder-chat-target", "models/rudder-chat/target", "prompt", "safetensors"),
                Arguments.of("rudder-chat-target", "models/rudder-chat/target", "attn", "safetensors"),
                Arguments.of("rudder-chat-target", "models/rudder-chat/target", "all", "gguf"),
                Arguments.of("rudder-chat-target", "models/rudder-chat/target", "prompt", "gguf"),
                Arguments.of("rudder-chat-target", "models/rudder-chat/target", "attn", "gguf"));
    }

    @ParameterizedTest(name = "{0} {2} from {3}")
    @MethodSource("cases")
    void steeredLogitsAndGreedyMatchReference(String name, String modelDir, String c, String format) {
        JsonNode exp = Shared.json("golden/steering/apply/expected.json").get(name);
        int[] prompt = Shared.ints(exp.get("prompt_ids"));
        int[] greedy = Shared.ints(exp.get("cases").get(c).get("greedy"));
        SteeringVectors vectors = format.equals("gguf")
                ? ControlVectorGguf.read(Shared.path("golden/steering/apply/" + name + ".controlvector.gguf"))
                : SafetensorsVectors.read(Shared.path("golden/steering/apply/" + name + ".vectors.safetensors"));
        try (Model model = Model.load(Shared.path(modelDir), 2, null)) {
            SteeringPlan plan = switch (c) {
                case "none" -> SteeringPlan.NONE;
                default -> new SteeringSpec(vectors, (double) exp.get("scale").asDouble(),
                        new LayerRange(vectors.firstLayer(), vectors.lastLayer()), false,
                        c.equals("attn") ? SteeringSpec.Point.AFTER_ATTENTION : SteeringSpec.Point.BLOCK_OUTPUT,
                        c.equals("prompt") ? SteeringPlan.Positions.PROMPT : SteeringPlan.Positions.ALL, null)
                        .toPlan(model.config());
            };
            String file = "golden/steering/apply/" + name + ".logits.safetensors";
            // full logits where the golden has them (tiny-llama-f32 'none' has only the top 16 per row)
            float[] golden = c.equals("none") && name.equals("tiny-llama-f32") ? new float[0] : Shared.tensor(file, c + ".logits");
            float[] topIds = Shared.tensor(file, c + ".topk_ids");
            float[] topLogits = Shared.tensor(file, c + ".topk_logits");
            int vocab = model.config().vocabSize();
            int goldenRows = golden.length / vocab;
            Session s = model.newSession(prompt.length + greedy.length, plan);
            float[][] promptRows = s.prefillAllLogits(PromptInput.tokens(prompt));
            float worst = 0;
            for (int r = 0; r < prompt.length; r++) {
                if (r < goldenRows) {
                    worst = Math.max(worst, Shared.maxAbsDiff(golden, r * vocab, promptRows[r], 0, vocab));
                }
                worst = Math.max(worst, topKDiff(topIds, topLogits, r, promptRows[r]));
            }
            int[] got = new int[greedy.length];
            float[] logits = promptRows[prompt.length - 1];
            for (int i = 0; i < greedy.length; i++) {
                got[i] = Sampler.argmax(logits);
                if (i + 1 < greedy.length) {
                    logits = s.decode(got[i]);
                    int row = prompt.length + i;
                    if (row < goldenRows) {
                        worst = Math.max(worst, Shared.maxAbsDiff(golden, row * vocab, logits, 0, vocab));
                    }
                    worst = Math.max(worst, topKDiff(topIds, topLogits, row, logits));
                }
            }
            assertArrayEquals(greedy, got, name + " " + c + " greedy ids");
            assertTrue(worst <= 1e-4f, name + " " + c + " (" + format + "): max abs logit diff " + worst);
        }
    }

    /** Max difference over the 16 reference top logits of one row (ids stored as exact floats). */
    private static float topKDiff(float[] ids, float[] values, int row, float[] logits) {
        float worst = 0;
        for (int j = 0; j < 16; j++) {
            int id = (int) ids[row * 16 + j];
            worst = Math.max(worst, Math.abs(logits[id] - values[row * 16 + j]));
        }
        return worst;
    }
}

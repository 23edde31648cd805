package dev.rudder.runtime.model;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.SharedData;
import dev.rudder.runtime.io.TensorStore;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SessionInputTest {

    @Test
    void embeddingRowsMixWithTokenIdsAndEqualTheTokensTheyCopy() {
        try (Model m = Model.load(SharedData.model("tiny-llama-f32"), 2, null);
             TensorStore store = TensorStore.open(SharedData.model("tiny-llama-f32"))) {
            int h = m.config().hiddenSize();
            float[] table = store.readFloats(store.require("model.embed_tokens.weight"));
            int[] ids = {1, 7959, 38923, 7485};
            float[][] rows = new float[2][];
            rows[0] = java.util.Arrays.copyOfRange(table, 7959 * h, 7960 * h);
            rows[1] = java.util.Arrays.copyOfRange(table, 38923 * h, 38924 * h);
            float[] want = m.newSession(8).prefill(PromptInput.tokens(ids)).clone();
            PromptInput mixed = PromptInput.tokens(1).then(PromptInput.embeddings(rows)).then(PromptInput.tokens(7485));
            float[] got = m.newSession(8).prefill(mixed);
            assertArrayEquals(want, got);
        }
    }

    @Test
    void promptLongerThanTheContextIsAClearError() {
        try (Model m = Model.load(SharedData.model("tiny-llama-f32"), 1, null)) {
            BadInputException e = assertThrows(BadInputException.class,
                    () -> m.newSession(4).prefill(PromptInput.tokens(1, 2, 3, 4, 5)));
            assertTrue(e.getMessage().contains("does not fit the context length of 4"), e.getMessage());
            assertThrows(BadInputException.class, () -> m.newSession(4).prefill(PromptInput.tokens(1, 49152)));
            assertThrows(BadInputException.class, () -> m.newSession(4).prefill(PromptInput.embeddings(new float[][]{new float[3]})));
            assertThrows(BadInputException.class, () -> m.newSession(4).prefill(PromptInput.tokens()));
        }
    }

    @Test
    void decodingPastTheContextIsAClearError() {
        try (Model m = Model.load(SharedData.model("tiny-llama-f32"), 1, null)) {
            Session s = m.newSession(2);
            s.prefill(PromptInput.tokens(1));
            s.decode(5);
            assertThrows(BadInputException.class, () -> s.decode(6));
        }
    }
}

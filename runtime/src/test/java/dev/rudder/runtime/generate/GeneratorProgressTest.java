package dev.rudder.runtime.generate;

import dev.rudder.runtime.SharedData;
import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.sample.SamplerOptions;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Prefill progress: a long prompt runs in parts, reported as it goes, and generates exactly what one call does. */
class GeneratorProgressTest {

    @Test
    void aLongPromptIsReportedPartByPartAndGeneratesWhatOnePrefillGenerates() {
        try (Model m = Model.load(SharedData.model("tiny-llama-f32"), 2, null)) {
            int length = 2 * Generator.PROGRESS_CHUNK + 88;   // parts 256, 256, 88
            int[] ids = new int[length];
            for (int i = 0; i < length; i++) {
                ids[i] = 1 + (i * 7919) % (m.config().vocabSize() - 1);
            }
            PromptInput prompt = PromptInput.tokens(ids);
            List<Integer> progress = new ArrayList<>();
            Generator.Result parts;
            Generator.Result whole;
            try (Session s = m.newSession(length + 8, null)) {
                parts = Generator.generate(s, prompt, SamplerOptions.GREEDY, 8, Set.of(), id -> true, progress::add);
            }
            try (Session s = m.newSession(length + 8, null)) {
                whole = Generator.generate(s, prompt, SamplerOptions.GREEDY, 8, Set.of(), id -> true);
            }
            assertEquals(List.of(256, 512, length), progress);
            assertEquals(whole.tokens(), parts.tokens());
        }
    }

    @Test
    void aShortPromptIsReportedOnceWhenDone() {
        try (Model m = Model.load(SharedData.model("tiny-llama-f32"), 2, null)) {
            List<Integer> progress = new ArrayList<>();
            try (Session s = m.newSession(32, null)) {
                Generator.generate(s, PromptInput.tokens(1, 2, 3, 4, 5), SamplerOptions.GREEDY, 2, Set.of(), id -> true,
                        progress::add);
            }
            assertEquals(List.of(5), progress);
        }
    }
}

package dev.rudder.runtime.model;

import dev.rudder.runtime.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A prompt prefilled in the parts PromptParts gives is bit for bit the prompt in one call. */
class PromptPartsTest {

    @Test
    void partsCoverThePromptAndNoneIsShorterThanTheMatrixPathNeeds() {
        for (int length = 1; length <= 40; length++) {
            for (int chunk = 1; chunk <= 10; chunk++) {
                int[] sizes = PromptParts.sizes(length, chunk);
                assertEquals(length, Arrays.stream(sizes).sum(), length + " in chunks of " + chunk);
                for (int s : sizes) {
                    assertTrue(sizes.length == 1 || s >= PromptParts.MIN_ROWS, length + " in chunks of " + chunk + ": " + Arrays.toString(sizes));
                    assertTrue(s <= Math.max(chunk, PromptParts.MIN_ROWS) + PromptParts.MIN_ROWS - 1, Arrays.toString(sizes));
                }
            }
        }
        assertArrayEquals(new int[]{8, 8, 5}, PromptParts.sizes(21, 8));
        assertArrayEquals(new int[]{8, 11}, PromptParts.sizes(19, 8));
        assertArrayEquals(new int[]{3}, PromptParts.sizes(3, 8));
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-f32", "tiny-llama3-bf16", "tiny-qwen2-f16"})
    void partsGiveTheWholePromptsLogitsBitForBit(String name) {
        try (Model m = Model.load(SharedData.model(name), 2, null)) {
            for (int length : new int[]{3, 9, 23}) {
                int[] prompt = new int[length];
                for (int i = 0; i < length; i++) {
                    prompt[i] = 1 + (37 * i) % 250;
                }
                Session whole = m.newSession(length + 2);
                float[] want = whole.prefill(PromptInput.tokens(prompt)).clone();
                float[] wantNext = whole.decode(7).clone();
                for (int chunk : new int[]{1, 2, 5, 8}) {
                    Session s = m.newSession(length + 2);
                    int[] sizes = PromptParts.sizes(length, chunk);
                    int at = 0;
                    for (int p = 0; p < sizes.length - 1; p++) {
                        s.prefillPart(PromptInput.tokens(Arrays.copyOfRange(prompt, at, at + sizes[p])));
                        at += sizes[p];
                    }
                    String what = name + ", " + length + " tokens as " + Arrays.toString(sizes);
                    assertArrayEquals(want, s.prefill(PromptInput.tokens(Arrays.copyOfRange(prompt, at, length))), what);
                    assertArrayEquals(wantNext, s.decode(7), what + ", next step");
                }
            }
        }
    }
}

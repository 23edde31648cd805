package dev.rudder.runtime.model;

import dev.rudder.runtime.SharedData;
import dev.rudder.runtime.TestVectors;
import dev.rudder.runtime.backend.GateState;
import dev.rudder.runtime.steer.Gate;
import dev.rudder.runtime.steer.SteeringPlan;
import dev.rudder.runtime.steer.SteeringPlan.Positions;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Chunked prefill of a gated prompt decides the gate where the whole prompt would, and (in
 * {@link PromptParts} parts) gives the whole prompt's logits bit for bit, held or run at once.
 */
class PrefillPartTest {
    private static final int[] PROMPT = {1, 298, 13, 588, 429, 344, 725, 12, 99, 402, 77, 5, 610};

    /** Prompt (whole, or in three parts) then three decode steps; all logits concatenated. */
    private static float[] run(Model m, SteeringPlan plan, boolean inParts) {
        Session s = m.newSession(PROMPT.length + 3, plan);
        float[] first;
        if (inParts) {
            assertArrayEquals(new int[]{4, 4, 5}, PromptParts.sizes(PROMPT.length, 4));
            s.prefillPart(PromptInput.tokens(Arrays.copyOfRange(PROMPT, 0, 4)));
            s.prefillPart(PromptInput.tokens(Arrays.copyOfRange(PROMPT, 4, 8)));
            assertEquals(8, s.position());
            first = s.prefill(PromptInput.tokens(Arrays.copyOfRange(PROMPT, 8, PROMPT.length))).clone();
        } else {
            first = s.prefill(PromptInput.tokens(PROMPT)).clone();
        }
        int v = first.length;
        float[] out = Arrays.copyOf(first, 4 * v);
        for (int t = 0; t < 3; t++) {
            System.arraycopy(s.decode(5 + t), 0, out, (t + 1) * v, v);
        }
        return out;
    }

    @Test
    void aGatedPromptInPartsEqualsTheWholePromptForEveryPositionsSetting() {
        try (Model m = Model.load(SharedData.model("rudder-chat/target"), 2, null)) {
            int h = m.config().hiddenSize();
            int layers = m.config().numLayers();
            float[] v = TestVectors.gaussian(h, 1);
            float[] g = TestVectors.gaussian(h, 2);
            for (Positions p : Positions.values()) {
                for (float bias : new float[]{1e30f, -1e30f}) {
                    for (int gateLayer : new int[]{0, layers - 1}) {
                        SteeringPlan plan = SteeringPlan.builder(layers).blockOutput(1, v, 4f).positions(p)
                                .gate(new Gate(gateLayer, g, bias)).build();
                        SteeringPlan same = bias > 0
                                ? SteeringPlan.builder(layers).blockOutput(1, v, 4f).positions(p).build()
                                : SteeringPlan.NONE;
                        String what = p + " bias " + bias + " gate layer " + gateLayer;
                        float[] inParts = run(m, plan, true);
                        assertArrayEquals(run(m, plan, false), inParts, what + ": parts = whole prompt");
                        assertArrayEquals(run(m, same, false), inParts, what + ": open = ungated, closed = plain");
                    }
                }
            }
        }
    }

    @Test
    void heldPartsBlockDecodeAndRewindUntilThePromptEnds() {
        try (Model m = Model.load(SharedData.model("rudder-chat/target"), 1, null)) {
            int layers = m.config().numLayers();
            float[] v = TestVectors.gaussian(m.config().hiddenSize(), 3);
            SteeringPlan plan = SteeringPlan.builder(layers).blockOutput(0, v, 1f).gate(new Gate(1, v, 0f)).build();
            Session s = m.newSession(8, plan);
            s.prefillPart(PromptInput.tokens(1, 2));
            assertThrows(IllegalStateException.class, () -> s.decode(3));
            assertThrows(IllegalStateException.class, () -> s.rewind(0));
            assertEquals(GateState.UNDECIDED, s.gateState());
            assertThrows(dev.rudder.runtime.BadInputException.class, () -> s.prefill(PromptInput.tokens(0, Integer.MAX_VALUE)));
            assertEquals(2, s.position(), "a rejected last part keeps the held ones");
            s.prefill(PromptInput.tokens(3));
            assertTrue(s.gateState() == GateState.OPEN || s.gateState() == GateState.CLOSED);
            assertEquals(3, s.position());
        }
    }
}

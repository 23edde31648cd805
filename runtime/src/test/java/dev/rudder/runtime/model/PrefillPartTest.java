package dev.rudder.runtime.model;

import dev.rudder.runtime.SharedData;
import dev.rudder.runtime.backend.GateState;
import dev.rudder.runtime.steer.Gate;
import dev.rudder.runtime.steer.SteeringPlan;
import dev.rudder.runtime.steer.SteeringPlan.Positions;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Chunked prefill of a gated prompt decides the gate where the whole prompt would. A prompt in
 * parts runs matrix products over fewer rows, whose rounding differs in the last bits from the
 * whole prompt's, so parts that run at once are compared with the same parts without a gate.
 */
class PrefillPartTest {
    private static final int[] PROMPT = {1, 298, 13, 588, 429, 344, 725, 12, 99, 402};

    private static float[] randomVector(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    /** Prompt (whole, or in three parts) then three decode steps; all logits concatenated. */
    private static float[] run(Model m, SteeringPlan plan, boolean inParts) {
        Session s = m.newSession(PROMPT.length + 3, plan);
        float[] first;
        if (inParts) {
            s.prefillPart(PromptInput.tokens(Arrays.copyOfRange(PROMPT, 0, 4)));
            s.prefillPart(PromptInput.tokens(Arrays.copyOfRange(PROMPT, 4, 7)));
            assertEquals(7, s.position());
            first = s.prefill(PromptInput.tokens(Arrays.copyOfRange(PROMPT, 7, PROMPT.length))).clone();
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
            float[] v = randomVector(h, 1);
            float[] g = randomVector(h, 2);
            for (Positions p : Positions.values()) {
                for (float bias : new float[]{1e30f, -1e30f}) {
                    for (int gateLayer : new int[]{0, layers - 1}) {
                        SteeringPlan plan = SteeringPlan.builder(layers).blockOutput(1, v, 4f).positions(p)
                                .gate(new Gate(gateLayer, g, bias)).build();
                        SteeringPlan same = bias > 0
                                ? SteeringPlan.builder(layers).blockOutput(1, v, 4f).positions(p).build()
                                : SteeringPlan.NONE;
                        String what = p + " bias " + bias + " gate layer " + gateLayer;
                        // prompt positions steered: the parts are held and run as one prompt at the end
                        boolean held = p.prompt();
                        assertArrayEquals(run(m, same, !held), run(m, plan, true), what);
                        if (held) {
                            assertArrayEquals(run(m, plan, false), run(m, plan, true), what);
                        }
                    }
                }
            }
        }
    }

    @Test
    void heldPartsBlockDecodeAndRewindUntilThePromptEnds() {
        try (Model m = Model.load(SharedData.model("rudder-chat/target"), 1, null)) {
            int layers = m.config().numLayers();
            float[] v = randomVector(m.config().hiddenSize(), 3);
            SteeringPlan plan = SteeringPlan.builder(layers).blockOutput(0, v, 1f).gate(new Gate(1, v, 0f)).build();
            Session s = m.newSession(8, plan);
            s.prefillPart(PromptInput.tokens(1, 2));
            assertThrows(IllegalStateException.class, () -> s.decode(3));
            assertThrows(IllegalStateException.class, () -> s.rewind(0));
            assertEquals(GateState.UNDECIDED, s.gateState());
            s.prefill(PromptInput.tokens(3));
            assertEquals(3, s.position());
        }
    }
}

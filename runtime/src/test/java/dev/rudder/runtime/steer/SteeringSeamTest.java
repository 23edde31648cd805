package dev.rudder.runtime.steer;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.SharedData;
import dev.rudder.runtime.TestVectors;
import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;


import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The residual seam: no plan and a closed gate are the plain model bit for bit; steering equals adding by hand. */
class SteeringSeamTest {
    private static final int[] PROMPT = {1, 298, 13, 588, 429, 344, 725};

    /** Prefill + 5 greedy-free decode steps with fixed tokens; returns all logits concatenated. */
    private static float[] run(Model m, SteeringPlan plan, int[] prompt) {
        Session s = m.newSession(prompt.length + 5, plan);
        float[][] rows = s.prefillAllLogits(PromptInput.tokens(prompt));
        int v = m.config().vocabSize();
        float[] out = new float[(prompt.length + 5) * v];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rows[i], 0, out, i * v, v);
        }
        for (int i = 0; i < 5; i++) {
            System.arraycopy(s.decode(3 + i), 0, out, (prompt.length + i) * v, v);
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-f32", "tiny-llama3-bf16", "tiny-qwen2-f16", "tiny-mistral-sharded",
            "aidreams260K-hf", "rudder-chat/target"})
    void emptyPlanAndClosedGateAreThePlainModelBitForBit(String name) {
        try (Model m = Model.load(SharedData.model(name), 2, null)) {
            int[] prompt = {1, 5, 9, 13, 17, 21, 25};
            float[] plain = run(m, null, prompt);
            assertArrayEquals(plain, run(m, SteeringPlan.NONE, prompt));
            int h = m.config().hiddenSize();
            int layers = m.config().numLayers();
            SteeringPlan closed = SteeringPlan.builder(layers)
                    .blockOutput(layers - 1, TestVectors.gaussian(h, 1), 8f)
                    .afterAttention(0, TestVectors.gaussian(h, 2), 8f)
                    .gate(new Gate(0, TestVectors.gaussian(h, 3), -1e30f))
                    .build();
            Session s = m.newSession(prompt.length + 5, closed);
            float[] steeredOff = run(m, closed, prompt);
            assertArrayEquals(plain, steeredOff, "a closed gate leaves the model untouched");
            s.prefill(PromptInput.tokens(prompt));
            assertFalse(s.report().gateOpen());
            SteeringPlan probesOnly = SteeringPlan.builder(layers).probe(0, TestVectors.gaussian(h, 4)).captureBlockOutputs(true).build();
            assertArrayEquals(plain, run(m, probesOnly, prompt), "probes and capture only read");
        }
    }

    @Test
    void steeringEqualsAddingTheVectorByHandToTheBlockOutput() {
        // by hand: steering the last block adds s*v to its output, which is the final hidden state
        try (Model m = Model.load(SharedData.model("rudder-chat/target"), 1, null)) {
            int h = m.config().hiddenSize();
            int last = m.config().numLayers() - 1;
            float[] v = TestVectors.gaussian(h, 9);
            Session plain = m.newSession(4);
            plain.prefill(PromptInput.tokens(PROMPT[0], PROMPT[1], PROMPT[2]));
            float[] x = plain.lastHiddenState();
            Session steered = m.newSession(4, SteeringPlan.builder(last + 1).blockOutput(last, v, 2.5f).build());
            steered.prefill(PromptInput.tokens(PROMPT[0], PROMPT[1], PROMPT[2]));
            float[] y = steered.lastHiddenState();
            for (int i = 0; i < h; i++) {
                assertEquals(x[i] + 2.5f * v[i], y[i], 1e-5f * (1 + Math.abs(x[i])), "component " + i);
            }
        }
    }

    @Test
    void anOpenGateGivesTheSameLogitsAsNoGateWhereverTheGateLayerIs() {
        try (Model m = Model.load(SharedData.model("rudder-chat/target"), 2, null)) {
            int h = m.config().hiddenSize();
            int layers = m.config().numLayers();
            float[] v = TestVectors.gaussian(h, 5);
            SteeringPlan ungated = SteeringPlan.builder(layers).blockOutput(1, v, 3f).blockOutput(2, v, 3f)
                    .positions(SteeringPlan.Positions.PROMPT).build();
            SteeringPlan gatedLate = SteeringPlan.builder(layers).blockOutput(1, v, 3f).blockOutput(2, v, 3f)
                    .positions(SteeringPlan.Positions.PROMPT).gate(new Gate(4, TestVectors.gaussian(h, 6), 1e30f)).build();
            SteeringPlan gatedEarly = SteeringPlan.builder(layers).blockOutput(1, v, 3f).blockOutput(2, v, 3f)
                    .positions(SteeringPlan.Positions.PROMPT).gate(new Gate(0, TestVectors.gaussian(h, 6), 1e30f)).build();
            float[] want = run(m, ungated, PROMPT);
            assertArrayEquals(want, run(m, gatedLate, PROMPT), "gate after the steered layers: recomputed pass");
            assertArrayEquals(want, run(m, gatedEarly, PROMPT), "gate before the steered layers: one pass");
            Session s = m.newSession(PROMPT.length, gatedLate);
            s.prefill(PromptInput.tokens(PROMPT));
            assertTrue(s.report().gateOpen());
            assertTrue(s.report().recomputed());
        }
    }

    @Test
    void concurrentRequestsOnOneModelSteerIndependently() throws Exception {
        try (Model m = Model.load(SharedData.model("rudder-chat/target"), 2, null)) {
            int h = m.config().hiddenSize();
            SteeringPlan steer = SteeringPlan.builder(m.config().numLayers()).blockOutput(2, TestVectors.gaussian(h, 11), 6f).build();
            float[] plainAlone = run(m, SteeringPlan.NONE, PROMPT);
            float[] steeredAlone = run(m, steer, PROMPT);
            java.util.concurrent.ExecutorService ex = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                for (int round = 0; round < 5; round++) {
                    var a = ex.submit(() -> run(m, SteeringPlan.NONE, PROMPT));
                    var b = ex.submit(() -> run(m, steer, PROMPT));
                    assertArrayEquals(plainAlone, a.get(), "plain request next to a steered one");
                    assertArrayEquals(steeredAlone, b.get(), "steered request next to a plain one");
                }
            } finally {
                ex.shutdownNow();
            }
        }
    }

    @Test
    void planErrorsAreClearBeforeAnyGeneration() {
        SteeringPlan.Builder b = SteeringPlan.builder(6);
        assertThrows(BadInputException.class, () -> b.blockOutput(6, new float[4], 1f));
        float[] nan = new float[4];
        nan[2] = Float.NaN;
        BadInputException e = assertThrows(BadInputException.class, () -> b.blockOutput(1, nan, 1f));
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());
    }
}

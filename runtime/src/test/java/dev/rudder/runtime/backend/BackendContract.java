package dev.rudder.runtime.backend;

import dev.rudder.runtime.SharedData;
import dev.rudder.runtime.TestVectors;
import dev.rudder.runtime.backend.cpu.CpuBackend;
import dev.rudder.runtime.model.DecodeBatch;
import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.steer.Gate;
import dev.rudder.runtime.steer.SteeringPlan;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every {@link Backend} must do, run against the CPU backend as the reference: logits close
 * to the CPU's, and, within the backend itself, bit for bit: no plan = empty plan = closed gate =
 * probes only; an open gate = the same plan without gate; each row of a batched decode step =
 * that session decoded alone. A backend's test extends this class and names its factory (and
 * skips itself where its hardware is missing).
 */
public abstract class BackendContract {
    private static final int[] PROMPT = {1, 298, 13, 588, 429, 344, 725, 12, 99};
    private static final int STEPS = 4;

    /** The backend under test. */
    protected abstract Backend.Factory factory();

    /** Largest |logit difference| allowed against the CPU backend (0 for the CPU itself). */
    protected abstract float tolerance();

    /** Prompt then {@link #STEPS} fixed decode tokens; all logits concatenated. */
    private static float[] run(Model m, SteeringPlan plan) {
        Session s = m.newSession(PROMPT.length + STEPS, plan);
        float[] first = s.prefill(PromptInput.tokens(PROMPT));
        int v = first.length;
        float[] out = new float[(STEPS + 1) * v];
        System.arraycopy(first, 0, out, 0, v);
        for (int t = 0; t < STEPS; t++) {
            System.arraycopy(s.decode(3 + t), 0, out, (t + 1) * v, v);
        }
        return out;
    }

    private Model load(String name) {
        return Model.load(SharedData.model(name), 2, null, factory());
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-f32", "tiny-llama3-bf16", "tiny-qwen2-f16", "rudder-chat/target"})
    void logitsMatchTheCpuBackend(String name) {
        float[] want;
        try (Model cpu = Model.load(SharedData.model(name), 2, null, CpuBackend::new)) {
            want = run(cpu, SteeringPlan.NONE);
        }
        try (Model m = load(name)) {
            float[] got = run(m, SteeringPlan.NONE);
            assertEquals(want.length, got.length);
            float worst = 0;
            for (int i = 0; i < want.length; i++) {
                worst = Math.max(worst, Math.abs(want[i] - got[i]));
            }
            assertTrue(worst <= tolerance(), name + ": largest logit difference " + worst + " > " + tolerance());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama3-bf16", "rudder-chat/target"})
    void unsteeredPlansAreThePlainModelAndAnOpenGateIsNoGate(String name) {
        try (Model m = load(name)) {
            int h = m.config().hiddenSize();
            int layers = m.config().numLayers();
            float[] v = TestVectors.gaussian(h, 1);
            float[] plain = run(m, null);
            assertArrayEquals(plain, run(m, SteeringPlan.NONE), "empty plan");
            SteeringPlan closed = SteeringPlan.builder(layers).blockOutput(layers - 1, v, 8f)
                    .afterAttention(0, v, 8f).gate(new Gate(0, TestVectors.gaussian(h, 2), -1e30f)).build();
            assertArrayEquals(plain, run(m, closed), "closed gate");
            SteeringPlan probes = SteeringPlan.builder(layers).probe(0, v).captureBlockOutputs(true).build();
            assertArrayEquals(plain, run(m, probes), "probes and capture only read");
            SteeringPlan steered = SteeringPlan.builder(layers).blockOutput(1, v, 3f).build();
            for (int gateLayer : new int[]{0, layers - 1}) {
                SteeringPlan open = SteeringPlan.builder(layers).blockOutput(1, v, 3f)
                        .gate(new Gate(gateLayer, TestVectors.gaussian(h, 3), 1e30f)).build();
                assertArrayEquals(run(m, steered), run(m, open), "open gate at layer " + gateLayer);
            }
            Session s = m.newSession(PROMPT.length, closed);
            s.prefill(PromptInput.tokens(PROMPT));
            assertFalse(s.report().gateOpen());
            assertEquals(GateState.CLOSED, s.gateState());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama3-bf16", "rudder-chat/target"})
    void aBatchedDecodeStepEqualsEachSessionAlone(String name) {
        try (Model m = load(name)) {
            int h = m.config().hiddenSize();
            int layers = m.config().numLayers();
            float[] v = TestVectors.gaussian(h, 4);
            SteeringPlan[] plans = {
                    SteeringPlan.NONE,
                    SteeringPlan.builder(layers).blockOutput(layers - 1, v, 4f).build(),
                    SteeringPlan.builder(layers).blockOutput(0, v, 4f).gate(new Gate(0, v, -1e30f)).build(),
                    SteeringPlan.builder(layers).blockOutput(0, v, 2f).positions(SteeringPlan.Positions.GENERATED)
                            .gate(new Gate(1, v, 1e30f)).build()};
            float[][][] alone = new float[plans.length][STEPS][];
            List<Session> sessions = new ArrayList<>();
            for (int i = 0; i < plans.length; i++) {
                int[] prompt = java.util.Arrays.copyOf(PROMPT, 3 + 2 * i);
                Session a = m.newSession(prompt.length + STEPS, plans[i]);
                a.prefill(PromptInput.tokens(prompt));
                for (int t = 0; t < STEPS; t++) {
                    alone[i][t] = a.decode(5 + t + i).clone();
                }
                Session b = m.newSession(prompt.length + STEPS, plans[i]);
                b.prefill(PromptInput.tokens(prompt));
                sessions.add(b);
            }
            DecodeBatch batch = new DecodeBatch(m);
            for (int t = 0; t < STEPS; t++) {
                int[] tokens = new int[plans.length];
                for (int i = 0; i < plans.length; i++) {
                    tokens[i] = 5 + t + i;
                }
                float[][] got = batch.decode(sessions, tokens);
                for (int i = 0; i < plans.length; i++) {
                    assertArrayEquals(alone[i][t], got[i], name + ": session " + i + " step " + t);
                }
            }
        }
    }
}

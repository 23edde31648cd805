package dev.rudder.runtime.model;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.SharedData;
import dev.rudder.runtime.backend.KvCacheType;
import dev.rudder.runtime.backend.KvCacheTypes;
import dev.rudder.runtime.backend.cpu.CpuBackend;
import dev.rudder.runtime.TestVectors;
import dev.rudder.runtime.steer.Gate;
import dev.rudder.runtime.steer.SteeringPlan;
import dev.rudder.runtime.steer.SteeringPlan.Positions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Batched decode: every sequence's logits equal its session decoded alone, bit for bit, whatever the batch. */
class DecodeBatchTest {
    private static final int STEPS = 6;

    /** Plans that differ in every way a request can: none, vectors, positions, gates open and closed, probes. */
    static List<SteeringPlan> plans(Model m) {
        int h = m.config().hiddenSize();
        int layers = m.config().numLayers();
        float[] v = TestVectors.gaussian(h, 1);
        float[] w = TestVectors.gaussian(h, 2);
        List<SteeringPlan> plans = new ArrayList<>();
        plans.add(SteeringPlan.NONE);
        plans.add(SteeringPlan.builder(layers).blockOutput(layers - 1, v, 4f).afterAttention(0, w, 2f).build());
        plans.add(SteeringPlan.builder(layers).blockOutput(0, w, 3f).positions(Positions.PROMPT).build());
        plans.add(SteeringPlan.builder(layers).blockOutput(layers / 2, v, 5f).positions(Positions.GENERATED)
                .probe(layers - 1, w).build());
        plans.add(SteeringPlan.builder(layers).blockOutput(layers - 1, v, 6f)
                .gate(new Gate(0, w, 1e30f)).build());                              // gate opens
        plans.add(SteeringPlan.builder(layers).blockOutput(layers - 1, v, 6f)
                .gate(new Gate(0, w, -1e30f)).build());                             // gate stays closed
        plans.add(SteeringPlan.builder(layers).blockOutput(0, w, 2f).positions(Positions.ALL)
                .gate(new Gate(layers - 1, v, 1e30f)).build());                     // recomputed prompt, open
        return plans;
    }

    private static int[] prompt(int i) {
        int[] p = new int[3 + 2 * i];     // different lengths: different positions in one batch
        for (int t = 0; t < p.length; t++) {
            p[t] = 1 + (17 * t + 29 * i) % 250;
        }
        return p;
    }

    private static int token(int session, int step) {
        return 2 + (31 * step + 7 * session) % 240;
    }

    @ParameterizedTest
    @ValueSource(strings = {"rudder-chat/target", "tiny-llama3-bf16", "tiny-qwen2-f16"})
    void everySequenceInABatchGetsTheLogitsItGetsAlone(String name) {
        try (Model m = Model.load(SharedData.model(name), 2, null)) {
            checkBatchesAgainstAlone(m);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"F16", "BF16"})
    void withASixteenBitCacheToo(KvCacheType type) {
        try (Model m = Model.load(SharedData.model("rudder-chat/target"), 2, null, null, CpuBackend::new,
                new KvCacheTypes(type, type))) {
            checkBatchesAgainstAlone(m);
        }
    }

    private static void checkBatchesAgainstAlone(Model m) {
        List<SteeringPlan> plans = plans(m);
        int n = plans.size();
        // alone
        float[][][] alone = new float[n][STEPS][];
        Session[] aloneSessions = new Session[n];
        for (int i = 0; i < n; i++) {
            Session s = m.newSession(prompt(i).length + STEPS + i, plans.get(i));   // different context lengths
            s.prefill(PromptInput.tokens(prompt(i)));
            for (int t = 0; t < STEPS; t++) {
                alone[i][t] = s.decode(token(i, t)).clone();
            }
            aloneSessions[i] = s;
        }
        // together, with the batch's size, order and members changing every step
        Session[] sessions = new Session[n];
        for (int i = 0; i < n; i++) {
            sessions[i] = m.newSession(prompt(i).length + STEPS + i, plans.get(i));
            sessions[i].prefill(PromptInput.tokens(prompt(i)));
        }
        int[] done = new int[n];
        DecodeBatch batch = new DecodeBatch(m);
        Random r = new Random(3);
        while (Arrays.stream(done).anyMatch(d -> d < STEPS)) {
            List<Integer> members = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (done[i] < STEPS && r.nextInt(4) != 0) {
                    members.add(i);
                }
            }
            java.util.Collections.shuffle(members, r);
            List<Session> ss = new ArrayList<>();
            int[] tokens = new int[members.size()];
            for (int j = 0; j < members.size(); j++) {
                int i = members.get(j);
                ss.add(sessions[i]);
                tokens[j] = token(i, done[i]);
            }
            float[][] logits = batch.decode(ss, tokens);
            for (int j = 0; j < members.size(); j++) {
                int i = members.get(j);
                assertArrayEquals(alone[i][done[i]], logits[j], "plan " + i + " step " + done[i] + " in a batch of " + members.size());
                done[i]++;
            }
        }
        for (int i = 0; i < n; i++) {
            assertEquals(prompt(i).length + STEPS, sessions[i].position());
            assertArrayEquals(aloneSessions[i].lastHiddenState(), sessions[i].lastHiddenState(), "last hidden state, plan " + i);
            assertArrayEquals(aloneSessions[i].report().probeScores(), sessions[i].report().probeScores(), "probes, plan " + i);
            assertEquals(aloneSessions[i].report().gateOpen(), sessions[i].report().gateOpen(), "gate, plan " + i);
        }
    }

    @Test
    void aBadRowRejectsTheWholeBatchBeforeAnythingRuns() {
        try (Model m = Model.load(SharedData.model("tiny-llama-f32"), 1, null)) {
            Session a = m.newSession(4);
            Session b = m.newSession(2);
            a.prefill(PromptInput.tokens(1, 2));
            b.prefill(PromptInput.tokens(1, 2));              // full: no room for another token
            assertThrows(BadInputException.class, () -> m.decodeBatch(List.of(a, b), new int[]{3, 4}));
            assertThrows(BadInputException.class, () -> m.decodeBatch(List.of(a), new int[]{-1}));
            assertThrows(IllegalArgumentException.class, () -> m.decodeBatch(List.of(a, a), new int[]{3, 4}));
            assertThrows(IllegalArgumentException.class, () -> m.decodeBatch(List.of(a), new int[]{3, 4}));
            assertEquals(2, a.position());
            assertEquals(2, b.position());
            Session c = m.newSession(4);
            c.prefill(PromptInput.tokens(1));
            c.close();
            assertThrows(IllegalStateException.class, () -> m.decodeBatch(List.of(a, c), new int[]{3, 4}));
            assertThrows(IllegalStateException.class, () -> c.decode(3));
            assertEquals(2, a.position());
        }
    }
}

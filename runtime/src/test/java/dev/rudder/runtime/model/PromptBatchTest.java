package dev.rudder.runtime.model;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.SharedData;
import dev.rudder.runtime.steer.SteeringPlan;
import dev.rudder.runtime.steer.SteeringReport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Prompt parts of several sessions in one pass: every session ends exactly as when prefilled alone, bit for bit. */
class PromptBatchTest {
    private static final int CHUNK = 6;

    private static int[] prompt(int i) {
        int[] p = new int[3 + 5 * i];     // 3 tokens (too few to join) up to several parts
        for (int t = 0; t < p.length; t++) {
            p[t] = 1 + (13 * t + 41 * i) % 250;
        }
        return p;
    }

    /** Prefills every session's prompt in PromptParts, part by part: jointly where parts join, else alone; returns the end logits. */
    private static float[][] prefill(List<Session> sessions, List<int[]> prompts, PromptBatch joint, int[] joined) {
        int n = sessions.size();
        float[][] endLogits = new float[n][];
        int[][] parts = new int[n][];
        int[] done = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            parts[i] = PromptParts.sizes(prompts.get(i).length, CHUNK);
        }
        boolean left = true;
        while (left) {
            left = false;
            List<Session> js = new ArrayList<>();
            List<PromptInput> jp = new ArrayList<>();
            List<Integer> ji = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                if (next[i] == parts[i].length) {
                    continue;
                }
                left = true;
                int len = parts[i][next[i]++];
                PromptInput part = PromptInput.tokens(java.util.Arrays.copyOfRange(prompts.get(i), done[i], done[i] + len));
                done[i] += len;
                boolean end = next[i] == parts[i].length;
                Session s = sessions.get(i);
                if (joint != null && PromptBatch.joins(s, part, end)) {
                    js.add(s);
                    jp.add(part);
                    ji.add(i);
                    joined[0]++;
                } else if (end) {
                    endLogits[i] = s.prefill(part).clone();
                } else {
                    s.prefillPart(part);
                }
            }
            if (!js.isEmpty()) {
                boolean[] ends = new boolean[js.size()];
                for (int k = 0; k < ends.length; k++) {
                    ends[k] = next[ji.get(k)] == parts[ji.get(k)].length;
                }
                float[][] out = joint.prefill(js, jp, ends);
                for (int k = 0; k < ends.length; k++) {
                    if (ends[k]) {
                        endLogits[ji.get(k)] = out[k].clone();
                    } else {
                        assertNull(out[k]);
                    }
                }
            }
        }
        return endLogits;
    }

    @ParameterizedTest
    @ValueSource(strings = {"rudder-chat/target", "tiny-llama3-bf16", "tiny-qwen2-f16"})
    void sessionsPrefilledTogetherEndExactlyAsAlone(String name) {
        try (Model m = Model.load(SharedData.model(name), 2, null); PromptBatch joint = new PromptBatch(m)) {
            List<SteeringPlan> plans = DecodeBatchTest.plans(m);
            List<int[]> prompts = new ArrayList<>();
            List<Session> alone = new ArrayList<>();
            List<Session> together = new ArrayList<>();
            for (int i = 0; i < plans.size(); i++) {
                prompts.add(prompt(i));
                alone.add(m.newSession(64, plans.get(i)));
                together.add(m.newSession(64, plans.get(i)));
            }
            int[] joined = {0};
            float[][] expected = prefill(alone, prompts, null, new int[1]);
            float[][] got = prefill(together, prompts, joint, joined);
            for (int i = 0; i < plans.size(); i++) {
                assertArrayEquals(expected[i], got[i], "end logits of session " + i);
                SteeringReport a = alone.get(i).report();
                SteeringReport b = together.get(i).report();
                assertEquals(a.gateOpen(), b.gateOpen(), "gate " + i);
                assertEquals(Float.floatToIntBits(a.gateScore()), Float.floatToIntBits(b.gateScore()), "gate score " + i);
                assertArrayEquals(a.probeScores(), b.probeScores(), "probes " + i);
                assertEquals(alone.get(i).position(), together.get(i).position());
                for (int step = 0; step < 3; step++) {   // the KV caches agree too
                    int token = 2 + (31 * step + 7 * i) % 240;
                    assertArrayEquals(alone.get(i).decode(token), together.get(i).decode(token), "decode " + step + " of " + i);
                }
            }
            // parts of the ungated and decided plans ran jointly; gated ends, held parts and the 3-token prompt alone
            assertTrue(joined[0] >= 6, "parts run jointly: " + joined[0]);
            alone.forEach(Session::close);
            together.forEach(Session::close);
        }
    }

    @Test
    void aBadPartIsNamedAndNothingRuns() {
        try (Model m = Model.load(SharedData.model("tiny-llama-f32"), 2, null); PromptBatch joint = new PromptBatch(m);
             Session a = m.newSession(32, SteeringPlan.NONE); Session b = m.newSession(32, SteeringPlan.NONE)) {
            PromptInput ok = PromptInput.tokens(1, 2, 3, 4, 5);
            PromptInput bad = PromptInput.tokens(1, 2, 999_999, 4, 5);
            BadInputException e = assertThrows(BadInputException.class,
                    () -> joint.prefill(List.of(a, b), List.of(ok, bad), new boolean[] {true, true}));
            assertTrue(e.getMessage().contains("sequence 1"), e.getMessage());
            assertEquals(0, a.position());
            assertFalse(PromptBatch.joins(a, PromptInput.tokens(1, 2, 3), true));   // too few rows for the matrix path
            assertThrows(IllegalArgumentException.class,
                    () -> joint.prefill(List.of(a, a), List.of(ok, ok), new boolean[] {true, true}));
        }
    }
}

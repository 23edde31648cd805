package dev.rudder.runtime.sample;

import dev.rudder.runtime.BadInputException;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplerTest {
    private static float[] logits(long seed, int n) {
        Random r = new Random(seed);
        float[] l = new float[n];
        for (int i = 0; i < n; i++) {
            l[i] = (float) r.nextGaussian() * 3;
        }
        return l;
    }

    @Test
    void greedyPicksTheArgmax() {
        float[] l = {0.1f, 2f, -1f, 1.9f};
        assertEquals(1, new Sampler(SamplerOptions.GREEDY, 4).sample(l));
    }

    @Test
    void sameSeedAndOptionsGiveTheSameTokens() {
        SamplerOptions o = new SamplerOptions(0.8f, 40, 0.9f, 0.05f, 1.1f, 1234);
        Sampler a = new Sampler(o, 1000);
        Sampler b = new Sampler(o, 1000);
        for (int i = 0; i < 50; i++) {
            float[] l = logits(i, 1000);
            int x = a.sample(l);
            int y = b.sample(l);
            assertEquals(x, y);
            a.observe(x);
            b.observe(y);
        }
    }

    @Test
    void topKOneIsGreedyAndTopKLimitsTheChoices() {
        float[] l = logits(3, 500);
        int best = Sampler.argmax(l);
        Sampler one = new Sampler(new SamplerOptions(1.5f, 1, 1f, 0f, 1f, 9), 500);
        Set<Integer> seen = new HashSet<>();
        Sampler three = new Sampler(new SamplerOptions(5f, 3, 1f, 0f, 1f, 9), 500);
        for (int i = 0; i < 200; i++) {
            assertEquals(best, one.sample(l));
            seen.add(three.sample(l));
        }
        assertTrue(seen.size() <= 3 && seen.contains(best), seen.toString());
    }

    @Test
    void minPAndTopPDropTheTail() {
        float[] l = new float[100];
        l[7] = 10f;   // dominant token: min-p 0.5 and top-p 0.5 both keep only it
        Sampler minP = new Sampler(new SamplerOptions(1f, 0, 1f, 0.5f, 1f, 1), 100);
        Sampler topP = new Sampler(new SamplerOptions(1f, 0, 0.5f, 0f, 1f, 1), 100);
        for (int i = 0; i < 100; i++) {
            assertEquals(7, minP.sample(l));
            assertEquals(7, topP.sample(l));
        }
    }

    @Test
    void repetitionPenaltyDemotesSeenTokens() {
        float[] l = {3f, 2.9f, 0f};
        Sampler s = new Sampler(new SamplerOptions(0f, 0, 1f, 0f, 2f, 0), 3);
        s.observe(0);
        assertEquals(1, s.sample(l));
    }

    @Test
    void badOptionsAreRejectedWithTheirFlagName() {
        BadInputException e = assertThrows(BadInputException.class, () -> new SamplerOptions(-1f, 0, 1f, 0f, 1f, 0));
        assertTrue(e.getMessage().contains("--temperature"));
        assertThrows(BadInputException.class, () -> new SamplerOptions(1f, 0, 0f, 0f, 1f, 0));
        assertThrows(BadInputException.class, () -> new SamplerOptions(1f, -2, 1f, 0f, 1f, 0));
    }

    @Test
    void fullVocabularyOrderIsFloatCompareDescendingWithTiesByLowerId() {
        float[] l = logits(7, 5000);
        // ties, signed zeros, infinities and NaN must sort exactly as Float.compare does
        l[10] = l[20] = l[4000] = 1.5f;
        l[11] = -0f;
        l[12] = 0f;
        l[13] = Float.POSITIVE_INFINITY;
        l[14] = Float.NEGATIVE_INFINITY;
        l[15] = Float.NaN;
        l[16] = Float.MIN_VALUE;
        l[17] = -Float.MIN_VALUE;
        Integer[] boxed = new Integer[l.length];
        for (int i = 0; i < l.length; i++) {
            boxed[i] = i;
        }
        java.util.Arrays.sort(boxed, (a, b) -> l[a] != l[b] || Float.isNaN(l[a]) || Float.isNaN(l[b])
                ? Float.compare(l[b], l[a]) : Integer.compare(a, b));
        int[] expected = java.util.Arrays.stream(boxed).mapToInt(Integer::intValue).toArray();
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected, new Sampler(SamplerOptions.GREEDY, l.length).sortedByLogit(l));
    }
}

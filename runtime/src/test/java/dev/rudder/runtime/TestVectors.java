package dev.rudder.runtime;

import java.util.Random;

/** Reproducible random vectors for steering, probe and gate directions in tests. */
public final class TestVectors {
    private TestVectors() {
    }

    /** {@code n} standard normal floats from {@code seed}. */
    public static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }
}

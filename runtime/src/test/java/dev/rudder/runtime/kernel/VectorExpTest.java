package dev.rudder.runtime.kernel;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VectorExpTest {
    private static final int L = FloatVector.SPECIES_PREFERRED.length();

    @Test
    void withinTwoUlpOfMathExpOverTheUsedRange() {
        Random r = new Random(1);
        float[] x = new float[L];
        float[] y = new float[L];
        for (int it = 0; it < 50_000; it++) {
            for (int i = 0; i < L; i++) {
                x[i] = (float) (r.nextDouble() * 170 - 86);   // [-86, 84]: no clamping
            }
            System.arraycopy(x, 0, y, 0, L);
            VectorExp.expOfDifference(y, 0, L, 0f, new float[L]);
            for (int i = 0; i < L; i++) {
                float want = (float) Math.exp(x[i]);
                assertTrue(Math.abs(y[i] - want) <= 2 * Math.ulp(want), "exp(" + x[i] + ") = " + y[i] + ", want " + want);
            }
        }
    }

    @Test
    void extremesStayFiniteAndOrdered() {
        float[] x = {-1000f, -87.3f, -20f, 0f, 1f, 20f, 88.3f, 1000f, Float.NEGATIVE_INFINITY, -0f, 1e-8f, -1e-8f};
        float[] pad = java.util.Arrays.copyOf(x, ((x.length + L - 1) / L) * L);
        float[] y = new float[pad.length];
        System.arraycopy(pad, 0, y, 0, pad.length);
        VectorExp.expOfDifference(y, 0, pad.length, 0f, new float[L]);
        assertEquals(1f, y[3]);
        assertEquals((float) Math.E, y[4], Math.ulp((float) Math.E));
        for (int i = 0; i < x.length; i++) {
            assertTrue(Float.isFinite(y[i]) && y[i] > 0, "exp(" + x[i] + ") = " + y[i]);
        }
        assertTrue(y[0] < 1e-37f && y[7] > 1e38f);
    }

    @Test
    void sameBitsBeforeAndAfterCompilation() {
        float[] x = new float[L];
        for (int i = 0; i < L; i++) {
            x[i] = -3.7f + 0.91f * i;
        }
        float[] first = new float[L];
        System.arraycopy(x, 0, first, 0, L);
        VectorExp.expOfDifference(first, 0, L, 0f, new float[L]);
        float[] later = new float[L];
        for (int it = 0; it < 300_000; it++) {   // C2 compiles the loop in here
            System.arraycopy(x, 0, later, 0, L);
            VectorExp.expOfDifference(later, 0, L, 0f, new float[L]);
        }
        assertEquals(java.util.Arrays.toString(first), java.util.Arrays.toString(later));
    }
}

package dev.rudder.runtime.kernel;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class VectorsTest {
    /** The same halving tree in scalar code: lanes [0,n) += lanes [n,2n), n = L/2, L/4, ..., 1. */
    private static float reference(float[] lanes) {
        float[] a = lanes.clone();
        for (int n = a.length / 2; n >= 1; n /= 2) {
            for (int i = 0; i < n; i++) {
                a[i] = a[i] + a[i + n];
            }
        }
        return a[0];
    }

    @Test
    void sumsInOneFixedOrderWhateverTheJitDoes() {
        Random r = new Random(3);
        int len = FloatVector.SPECIES_PREFERRED.length();
        float[] lanes = new float[len];
        for (int it = 0; it < 200_000; it++) {   // long enough for C2 to compile sumLanes()
            for (int i = 0; i < len; i++) {
                lanes[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3));
            }
            float expected = reference(lanes);
            float onArray = Vectors.sumLanes(lanes, 0);   // overwrites lanes
            assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(onArray), "sumLanes, iteration " + it);
        }
    }
}

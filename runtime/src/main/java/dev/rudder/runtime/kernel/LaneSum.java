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

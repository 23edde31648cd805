package dev.rudder.runtime.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * {@code exp} on float vectors from lane-wise IEEE arithmetic only. The Vector API's
 * {@code lanewise(EXP)} is an SVML intrinsic once C2 compiles it and {@code Math.exp} per lane
 * before, and the two differ in the last bits, so results depended on JIT timing. This version
 * gives the same bits on both paths (and within 2 ulp of {@code Math.exp}, see its test):
 * {@code x = n ln2 + r}, |r| <= ln2/2 (Cody-Waite split), a degree-7 Taylor polynomial for
 * {@code e^r}, and {@code 2^n} built in the exponent bits. Inputs are clamped to
 * [-87.3, 88.3], so results never overflow and the tiniest ones are ~1e-38 instead of 0.
 */
public final class VectorExp {
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;          // few mantissa bits: n * LN2_HI is exact
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f;                // 1.5 * 2^23: adding it rounds to an integer
    private static final float MIN = -87.3f;
    private static final float MAX = 88.3f;

    private VectorExp() {
    }

    public static FloatVector exp(FloatVector x) {
        x = x.max(MIN).min(MAX);
        FloatVector n = x.mul(LOG2E).add(ROUND).sub(ROUND);              // round(x / ln2)
        FloatVector r = x.sub(n.mul(LN2_HI));                            // exact: n * LN2_HI has few bits
        r = n.fma(x.broadcast(-LN2_LO), r);
        FloatVector p = r.fma(1f / 5040f, 1f / 720f);
        p = p.fma(r, x.broadcast(1f / 120f));
        p = p.fma(r, x.broadcast(1f / 24f));
        p = p.fma(r, x.broadcast(1f / 6f));
        p = p.fma(r, x.broadcast(0.5f));
        p = p.fma(r, x.broadcast(1f));
        p = p.fma(r, x.broadcast(1f));
        IntVector bits = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats());
    }
}

package dev.rudder.runtime.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@code exp} on float vectors from lane-wise IEEE arithmetic only. The Vector API's
 * {@code lanewise(EXP)} is an SVML intrinsic once C2 compiles it and {@code Math.exp} per lane
 * before, and the two differ in the last bits, so results depended on JIT timing. This version
 * gives the same bits on both paths (and within 2 ulp of {@code Math.exp}, see its test):
 * {@code x = n ln2 + r}, |r| <= ln2/2 (Cody-Waite split), a degree-7 Taylor polynomial for
 * {@code e^r}, and {@code 2^n} built in the exponent bits. Inputs are clamped to
 * [-87.3, 88.3], so results never overflow and the tiniest ones are ~1e-38 instead of 0.
 *
 * <p>Offered as loops over arrays, not as a function of a vector: C2 inlines a 167-byte helper only at a call
 * site its profile calls hot, and a softmax compiled while contexts were shorter than one vector saw the call
 * as cold, left it out of line and boxed its vectors on every call after (two allocations per 16 scores). The
 * polynomial is written once, inside the loop, in Vector API calls only (which C2 always inlines).
 */
public final class VectorExp {
    private static final VectorSpecies<Float> S = Vectors.F;
    private static final int L = S.length();
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;          // few mantissa bits: n * LN2_HI is exact
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f;                // 1.5 * 2^23: adding it rounds to an integer
    private static final float MIN = -87.3f;
    private static final float MAX = 88.3f;

    private VectorExp() {
    }

    /**
     * {@code x[i] = exp(x[i] - shift)} for i in [0, n), n a multiple of the vector length; {@code lanes[0 .. L)} gets
     * the lane-wise sums of the results (one accumulator, added in order), for a fixed-order lane sum after.
     */
    public static void expOfDifference(float[] x, int off, int n, float shift, float[] lanes) {
        apply(false, x, off, null, 0, n, shift, lanes);
    }

    /** {@code gate[i] = gate[i] / (1 + exp(-gate[i])) * up[i]} (SiLU times up) for i in [0, n), n a multiple of the vector length. */
    public static void swiglu(float[] gate, int gOff, float[] up, int uOff, int n) {
        apply(true, gate, gOff, up, uOff, n, 0f, null);
    }

    private static void apply(boolean silu, float[] a, int aOff, float[] b, int bOff, int n, float shift, float[] lanes) {
        FloatVector acc = FloatVector.zero(S);
        for (int i = 0; i < n; i += L) {
            FloatVector v = FloatVector.fromArray(S, a, aOff + i);
            FloatVector x = (silu ? v.neg() : v.sub(shift)).max(MIN).min(MAX);
            FloatVector k = x.mul(LOG2E).add(ROUND).sub(ROUND);              // round(x / ln2)
            FloatVector r = x.sub(k.mul(LN2_HI));                            // exact: k * LN2_HI has few bits
            r = k.fma(x.broadcast(-LN2_LO), r);
            FloatVector p = r.fma(1f / 5040f, 1f / 720f);
            p = p.fma(r, x.broadcast(1f / 120f));
            p = p.fma(r, x.broadcast(1f / 24f));
            p = p.fma(r, x.broadcast(1f / 6f));
            p = p.fma(r, x.broadcast(0.5f));
            p = p.fma(r, x.broadcast(1f));
            p = p.fma(r, x.broadcast(1f));
            IntVector bits = ((IntVector) k.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
            FloatVector e = p.mul(bits.reinterpretAsFloats());
            if (silu) {
                v.div(e.add(1f)).mul(FloatVector.fromArray(S, b, bOff + i)).intoArray(a, aOff + i);
            } else {
                e.intoArray(a, aOff + i);
                acc = acc.add(e);
            }
        }
        if (lanes != null) {
            acc.intoArray(lanes, 0);
        }
    }
}

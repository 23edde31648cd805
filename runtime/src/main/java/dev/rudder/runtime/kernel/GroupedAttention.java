package dev.rudder.runtime.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Attention for four query heads that share one key/value head (grouped-query attention) in one pass: each key
 * and value vector is loaded once and used by four FMA chains. Per head and lane the chains are exactly the one-head
 * kernels' ({@link VectorKernels#attentionScores}: {@code q[d] * k + acc} over d in order, then times scale;
 * {@code attentionValues}: {@code v * p[t] + acc} over t in order), so the results are bit-identical; only the memory
 * traffic drops (the one-head kernels read a group's cache once per head: 22-27 us per head at 2000 positions,
 * bound by L2/L3, against 7-12 us here). Two vectors of positions or dimensions per pass keep the 8 accumulators,
 * 2 loads and 4 broadcasts within 16 registers (AVX2). Callers repeat a head to fill four (same bits written to the
 * same place).
 */
final class GroupedAttention {
    private static final VectorSpecies<Float> S = Vectors.F;
    private static final int L = S.length();

    private GroupedAttention() {
    }

    /** Scores of four heads (queries at qa..qd) for positions [t0, t1), t1 - t0 a multiple of 2L. */
    static void scores(float[] q, int qa, int qb, int qc, int qd, float[] kT, int kOff, int stride, int n, int t0, int t1,
                       float scale, float[] oa, float[] ob, float[] oc, float[] od) {
        for (int t = t0; t < t1; t += 2 * L) {
            FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S), b0 = FloatVector.zero(S), b1 = FloatVector.zero(S);
            FloatVector c0 = FloatVector.zero(S), c1 = FloatVector.zero(S), d0 = FloatVector.zero(S), d1 = FloatVector.zero(S);
            for (int d = 0, k = kOff + t; d < n; d++, k += stride) {
                FloatVector k0 = FloatVector.fromArray(S, kT, k);
                FloatVector k1 = FloatVector.fromArray(S, kT, k + L);
                FloatVector x = FloatVector.broadcast(S, q[qa + d]);
                a0 = x.fma(k0, a0);
                a1 = x.fma(k1, a1);
                x = FloatVector.broadcast(S, q[qb + d]);
                b0 = x.fma(k0, b0);
                b1 = x.fma(k1, b1);
                x = FloatVector.broadcast(S, q[qc + d]);
                c0 = x.fma(k0, c0);
                c1 = x.fma(k1, c1);
                x = FloatVector.broadcast(S, q[qd + d]);
                d0 = x.fma(k0, d0);
                d1 = x.fma(k1, d1);
            }
            a0.mul(scale).intoArray(oa, t);
            a1.mul(scale).intoArray(oa, t + L);
            b0.mul(scale).intoArray(ob, t);
            b1.mul(scale).intoArray(ob, t + L);
            c0.mul(scale).intoArray(oc, t);
            c1.mul(scale).intoArray(oc, t + L);
            d0.mul(scale).intoArray(od, t);
            d1.mul(scale).intoArray(od, t + L);
        }
    }

    /** Outputs of four heads (weights pa..pd, added to out at oa..od) for dimensions [0, dEnd), dEnd a multiple of 2L. */
    static void values(float[] pa, float[] pb, float[] pc, float[] pd, int t0, int t1, float[] v, int vOff, int vStride,
                       float[] out, int oa, int ob, int oc, int od, int dEnd) {
        for (int d = 0; d < dEnd; d += 2 * L) {
            FloatVector a0 = FloatVector.fromArray(S, out, oa + d), a1 = FloatVector.fromArray(S, out, oa + d + L);
            FloatVector b0 = FloatVector.fromArray(S, out, ob + d), b1 = FloatVector.fromArray(S, out, ob + d + L);
            FloatVector c0 = FloatVector.fromArray(S, out, oc + d), c1 = FloatVector.fromArray(S, out, oc + d + L);
            FloatVector d0 = FloatVector.fromArray(S, out, od + d), d1 = FloatVector.fromArray(S, out, od + d + L);
            for (int t = t0, k = vOff + t0 * vStride + d; t < t1; t++, k += vStride) {
                FloatVector v0 = FloatVector.fromArray(S, v, k);
                FloatVector v1 = FloatVector.fromArray(S, v, k + L);
                FloatVector x = FloatVector.broadcast(S, pa[t]);
                a0 = v0.fma(x, a0);
                a1 = v1.fma(x, a1);
                x = FloatVector.broadcast(S, pb[t]);
                b0 = v0.fma(x, b0);
                b1 = v1.fma(x, b1);
                x = FloatVector.broadcast(S, pc[t]);
                c0 = v0.fma(x, c0);
                c1 = v1.fma(x, c1);
                x = FloatVector.broadcast(S, pd[t]);
                d0 = v0.fma(x, d0);
                d1 = v1.fma(x, d1);
            }
            a0.intoArray(out, oa + d);
            a1.intoArray(out, oa + d + L);
            b0.intoArray(out, ob + d);
            b1.intoArray(out, ob + d + L);
            c0.intoArray(out, oc + d);
            c1.intoArray(out, oc + d + L);
            d0.intoArray(out, od + d);
            d1.intoArray(out, od + d + L);
        }
    }
}

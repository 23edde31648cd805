package dev.rudder.runtime.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link Kernels} on {@code jdk.incubator.vector} with {@link FloatVector#SPECIES_PREFERRED}
 * (any width); tails are done scalar. Loaded reflectively by {@link VectorSupport} so nothing
 * references this class when the incubator module is absent.
 *
 * <p>Results agree with {@link ScalarKernels} within float tolerance (reductions sum in a
 * different order). {@link #residualAdd} updates {@code x} with exactly the scalar operations
 * (no FMA), so the hidden state is bit-identical to the scalar reference; only the probe sum
 * differs in summation order.
 */
public final class VectorKernels implements Kernels {
    private static final VectorSpecies<Float> S = Vectors.F;
    private static final int L = S.length();
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(L * 16));   // L halves
    /**
     * Per-thread lanes for the fixed-order sums: an accumulator is stored here and summed by
     * {@link Vectors#sumLanes}, so no vector is passed to a method of ours, which C2 might leave out of
     * line (a call it profiles as cold, such as the probe sum run for one row in a batch) and box.
     */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[L]);

    public VectorKernels() {
    }

    @Override
    public String name() {
        return "vector-" + S.vectorBitSize();
    }

    @Override
    public void rmsnorm(float[] out, int oOff, float[] x, int xOff, float[] w, int n, float eps) {
        int upper = S.loopBound(n);
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        int i = 0;
        for (; i + 2 * L <= upper; i += 2 * L) {
            FloatVector v0 = FloatVector.fromArray(S, x, xOff + i);
            FloatVector v1 = FloatVector.fromArray(S, x, xOff + i + L);
            a0 = v0.fma(v0, a0);
            a1 = v1.fma(v1, a1);
        }
        for (; i < upper; i += L) {
            FloatVector v0 = FloatVector.fromArray(S, x, xOff + i);
            a0 = v0.fma(v0, a0);
        }
        float[] t = LANES.get();
        a0.add(a1).intoArray(t, 0);
        float ss = Vectors.sumLanes(t, 0);
        for (; i < n; i++) {
            float v = x[xOff + i];
            ss += v * v;
        }
        float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
        i = 0;
        for (; i < upper; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + i).mul(inv);
            FloatVector.fromArray(S, w, i).mul(v).intoArray(out, oOff + i);
        }
        for (; i < n; i++) {
            out[oOff + i] = w[i] * (x[xOff + i] * inv);
        }
    }

    @Override
    public float residualAdd(float[] x, int xOff, float[] delta, int dOff, float[] steer, float scale, float[] probe, int n) {
        int upper = S.loopBound(n);
        int i = 0;
        if (steer == null && probe == null) {
            for (; i < upper; i += L) {
                FloatVector.fromArray(S, x, xOff + i).add(FloatVector.fromArray(S, delta, dOff + i)).intoArray(x, xOff + i);
            }
            for (; i < n; i++) {
                x[xOff + i] += delta[dOff + i];
            }
            return 0f;
        }
        if (probe == null) {
            for (; i < upper; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, xOff + i).add(FloatVector.fromArray(S, delta, dOff + i));
                v.add(FloatVector.fromArray(S, steer, i).mul(scale)).intoArray(x, xOff + i);
            }
            for (; i < n; i++) {
                x[xOff + i] = x[xOff + i] + delta[dOff + i] + scale * steer[i];
            }
            return 0f;
        }
        // two probe accumulators: the FMA latency chain would otherwise bound the loop
        FloatVector acc = FloatVector.zero(S);
        FloatVector acc2 = FloatVector.zero(S);
        if (steer == null) {
            for (; i + 2 * L <= upper; i += 2 * L) {
                FloatVector v = FloatVector.fromArray(S, x, xOff + i).add(FloatVector.fromArray(S, delta, dOff + i));
                FloatVector u = FloatVector.fromArray(S, x, xOff + i + L).add(FloatVector.fromArray(S, delta, dOff + i + L));
                v.intoArray(x, xOff + i);
                u.intoArray(x, xOff + i + L);
                acc = v.fma(FloatVector.fromArray(S, probe, i), acc);
                acc2 = u.fma(FloatVector.fromArray(S, probe, i + L), acc2);
            }
            for (; i < upper; i += L) {
                FloatVector v = FloatVector.fromArray(S, x, xOff + i).add(FloatVector.fromArray(S, delta, dOff + i));
                v.intoArray(x, xOff + i);
                acc = v.fma(FloatVector.fromArray(S, probe, i), acc);
            }
            float[] t = LANES.get();
            acc.add(acc2).intoArray(t, 0);
            float sum = Vectors.sumLanes(t, 0);
            for (; i < n; i++) {
                float v = x[xOff + i] + delta[dOff + i];
                x[xOff + i] = v;
                sum += v * probe[i];
            }
            return sum;
        }
        for (; i + 2 * L <= upper; i += 2 * L) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + i).add(FloatVector.fromArray(S, delta, dOff + i));
            FloatVector u = FloatVector.fromArray(S, x, xOff + i + L).add(FloatVector.fromArray(S, delta, dOff + i + L));
            v = v.add(FloatVector.fromArray(S, steer, i).mul(scale));
            u = u.add(FloatVector.fromArray(S, steer, i + L).mul(scale));
            v.intoArray(x, xOff + i);
            u.intoArray(x, xOff + i + L);
            acc = v.fma(FloatVector.fromArray(S, probe, i), acc);
            acc2 = u.fma(FloatVector.fromArray(S, probe, i + L), acc2);
        }
        for (; i < upper; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, xOff + i).add(FloatVector.fromArray(S, delta, dOff + i));
            v = v.add(FloatVector.fromArray(S, steer, i).mul(scale));
            v.intoArray(x, xOff + i);
            acc = v.fma(FloatVector.fromArray(S, probe, i), acc);
        }
        float[] t = LANES.get();
        acc.add(acc2).intoArray(t, 0);
        float sum = Vectors.sumLanes(t, 0);
        for (; i < n; i++) {
            float v = x[xOff + i] + delta[dOff + i] + scale * steer[i];
            x[xOff + i] = v;
            sum += v * probe[i];
        }
        return sum;
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        int upper = S.loopBound(n);
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = FloatVector.zero(S);
        FloatVector a2 = FloatVector.zero(S);
        FloatVector a3 = FloatVector.zero(S);
        int i = 0;
        for (; i + 4 * L <= upper; i += 4 * L) {
            a0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), a0);
            a1 = FloatVector.fromArray(S, a, aOff + i + L).fma(FloatVector.fromArray(S, b, bOff + i + L), a1);
            a2 = FloatVector.fromArray(S, a, aOff + i + 2 * L).fma(FloatVector.fromArray(S, b, bOff + i + 2 * L), a2);
            a3 = FloatVector.fromArray(S, a, aOff + i + 3 * L).fma(FloatVector.fromArray(S, b, bOff + i + 3 * L), a3);
        }
        for (; i < upper; i += L) {
            a0 = FloatVector.fromArray(S, a, aOff + i).fma(FloatVector.fromArray(S, b, bOff + i), a0);
        }
        float[] t = LANES.get();
        a0.add(a1).add(a2.add(a3)).intoArray(t, 0);
        float sum = Vectors.sumLanes(t, 0);
        for (; i < n; i++) {
            sum += a[aOff + i] * b[bOff + i];
        }
        return sum;
    }

    @Override
    public void axpy(float a, float[] x, int xOff, float[] y, int yOff, int n) {
        int upper = S.loopBound(n);
        int i = 0;
        for (; i < upper; i += L) {
            FloatVector.fromArray(S, x, xOff + i).fma(FloatVector.broadcast(S, a), FloatVector.fromArray(S, y, yOff + i))
                    .intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }

    /**
     * Positions are the lanes: per block of L positions one FMA chain over the head dimensions (four blocks at a
     * time so four chains are in flight), so no lane sums; the last partial block runs in scalar FMAs. Lane t computes
     * exactly what every other block computes for its positions.
     */
    @Override
    public void attentionScores(float[] q, int qOff, float[] kT, int kOff, int stride, int n, int t0, int t1, float scale,
                                float[] out) {
        int t = t0;
        for (; t + 4 * L <= t1; t += 4 * L) {
            FloatVector a0 = FloatVector.zero(S), a1 = FloatVector.zero(S);
            FloatVector a2 = FloatVector.zero(S), a3 = FloatVector.zero(S);
            for (int d = 0, k = kOff + t; d < n; d++, k += stride) {
                FloatVector qd = FloatVector.broadcast(S, q[qOff + d]);
                a0 = qd.fma(FloatVector.fromArray(S, kT, k), a0);
                a1 = qd.fma(FloatVector.fromArray(S, kT, k + L), a1);
                a2 = qd.fma(FloatVector.fromArray(S, kT, k + 2 * L), a2);
                a3 = qd.fma(FloatVector.fromArray(S, kT, k + 3 * L), a3);
            }
            a0.mul(scale).intoArray(out, t);
            a1.mul(scale).intoArray(out, t + L);
            a2.mul(scale).intoArray(out, t + 2 * L);
            a3.mul(scale).intoArray(out, t + 3 * L);
        }
        for (; t + L <= t1; t += L) {
            FloatVector a = FloatVector.zero(S);
            for (int d = 0, k = kOff + t; d < n; d++, k += stride) {
                a = FloatVector.broadcast(S, q[qOff + d]).fma(FloatVector.fromArray(S, kT, k), a);
            }
            a.mul(scale).intoArray(out, t);
        }
        // the last partial block one position at a time: Math.fma is the lanes' fused multiply-add, so the same bits
        // (a masked vector here left C2 'virtual call's to VectorMask methods, boxed, in some compilations)
        for (; t < t1; t++) {
            float a = 0f;
            for (int d = 0, k = kOff + t; d < n; d++, k += stride) {
                a = Math.fma(q[qOff + d], kT[k], a);
            }
            out[t] = a * scale;
        }
    }

    /** Head dimensions are the lanes, kept in registers across the positions (four vectors at a time). */
    @Override
    public void attentionValues(float[] p, int t0, int t1, float[] v, int vOff, int vStride, float[] out, int oOff, int n) {
        valuesFrom(0, p, t0, t1, v, vOff, vStride, out, oOff, n);
    }

    /**
     * Up to four heads per pass over the keys ({@link GroupedAttention}) for the positions in whole blocks of two
     * vectors, the rest and a lone last head one head at a time: every score is the same chain over d wherever
     * it is computed.
     */
    @Override
    public void attentionScores(float[] q, int qOff, int heads, float[] kT, int kOff, int stride, int n, int t0, int t1,
                                float scale, float[][] out) {
        int blocked = heads > 1 ? t0 + (t1 - t0) / (2 * L) * (2 * L) : t0;
        int j = 0;
        for (; heads - j >= 2; j += 4) {
            int last = Math.min(heads, j + 4) - 1;   // a missing fourth (third) head repeats the last: same bits, same place
            GroupedAttention.scores(q, qOff + j * n, qOff + (j + 1) * n, qOff + Math.min(j + 2, last) * n,
                    qOff + last * n, kT, kOff, stride, n, t0, blocked, scale,
                    out[j], out[j + 1], out[Math.min(j + 2, last)], out[last]);
        }
        for (int h = 0; h < heads; h++) {
            attentionScores(q, qOff + h * n, kT, kOff, stride, n, h < j ? blocked : t0, t1, scale, out[h]);
        }
    }

    /** Up to four heads per pass over the values for the dimensions in whole blocks of two vectors; the rest as one head. */
    @Override
    public void attentionValues(float[][] p, int heads, int t0, int t1, float[] v, int vOff, int vStride, float[] out,
                                int oOff, int n) {
        int blocked = heads > 1 ? n / (2 * L) * (2 * L) : 0;
        int j = 0;
        for (; heads - j >= 2; j += 4) {
            int last = Math.min(heads, j + 4) - 1;
            GroupedAttention.values(p[j], p[j + 1], p[Math.min(j + 2, last)], p[last], t0, t1, v, vOff, vStride,
                    out, oOff + j * n, oOff + (j + 1) * n, oOff + Math.min(j + 2, last) * n, oOff + last * n, blocked);
        }
        for (int h = 0; h < heads; h++) {
            valuesFrom(h < j ? blocked : 0, p[h], t0, t1, v, vOff, vStride, out, oOff + h * n, n);
        }
    }

    /** {@link #attentionValues} for the dimensions from {@code d} on (each dimension is computed alone). */
    private static void valuesFrom(int d, float[] p, int t0, int t1, float[] v, int vOff, int vStride, float[] out, int oOff,
                                   int n) {
        for (; d + 4 * L <= n; d += 4 * L) {
            FloatVector a0 = FloatVector.fromArray(S, out, oOff + d), a1 = FloatVector.fromArray(S, out, oOff + d + L);
            FloatVector a2 = FloatVector.fromArray(S, out, oOff + d + 2 * L);
            FloatVector a3 = FloatVector.fromArray(S, out, oOff + d + 3 * L);
            for (int t = t0, k = vOff + t0 * vStride + d; t < t1; t++, k += vStride) {
                FloatVector pt = FloatVector.broadcast(S, p[t]);
                a0 = FloatVector.fromArray(S, v, k).fma(pt, a0);
                a1 = FloatVector.fromArray(S, v, k + L).fma(pt, a1);
                a2 = FloatVector.fromArray(S, v, k + 2 * L).fma(pt, a2);
                a3 = FloatVector.fromArray(S, v, k + 3 * L).fma(pt, a3);
            }
            a0.intoArray(out, oOff + d);
            a1.intoArray(out, oOff + d + L);
            a2.intoArray(out, oOff + d + 2 * L);
            a3.intoArray(out, oOff + d + 3 * L);
        }
        for (; d + L <= n; d += L) {
            FloatVector a = FloatVector.fromArray(S, out, oOff + d);
            for (int t = t0, k = vOff + t0 * vStride + d; t < t1; t++, k += vStride) {
                a = FloatVector.fromArray(S, v, k).fma(FloatVector.broadcast(S, p[t]), a);
            }
            a.intoArray(out, oOff + d);
        }
        for (; d < n; d++) {
            float a = out[oOff + d];
            for (int t = t0; t < t1; t++) {
                a += p[t] * v[vOff + t * vStride + d];
            }
            out[oOff + d] = a;
        }
    }

    /**
     * Halves widened in int lanes: sign and the 15 bits below it moved to a float's places, then scaled by 2^112
     * (exact for normal and subnormal halves); an all-ones exponent (infinity, NaN) becomes float's all-ones instead.
     */
    @Override
    public void widenHalves(short[] src, int sOff, float[] dst, int dOff, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            IntVector h = ((IntVector) ShortVector.fromArray(H, src, sOff + i).convertShape(VectorOperators.S2I, Vectors.I, 0))
                    .lanewise(VectorOperators.LSHL, 13).and(0x8FFFE000);
            h.reinterpretAsFloats().mul(0x1p112f)
                    .blend(h.or(0x70000000).reinterpretAsFloats(), h.and(0x0F800000).compare(VectorOperators.EQ, 0x0F800000).cast(S))
                    .intoArray(dst, dOff + i);
        }
        for (; i < n; i++) {
            dst[dOff + i] = Float.float16ToFloat(src[sOff + i]);
        }
    }

    @Override
    public void widenBf16(short[] src, int sOff, float[] dst, int dOff, int n) {
        int i = 0;
        for (; i + L <= n; i += L) {
            ((IntVector) ShortVector.fromArray(H, src, sOff + i).convertShape(VectorOperators.S2I, Vectors.I, 0))
                    .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, dOff + i);
        }
        for (; i < n; i++) {
            dst[dOff + i] = Float.intBitsToFloat(src[sOff + i] << 16);
        }
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        int upper = S.loopBound(n);
        int i = 0;
        float max = Float.NEGATIVE_INFINITY;
        if (upper > 0) {
            FloatVector m = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; i < upper; i += L) {
                m = m.max(FloatVector.fromArray(S, x, off + i));
            }
            max = m.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        float[] t = LANES.get();
        VectorExp.expOfDifference(x, off, upper, max, t);
        float sum = Vectors.sumLanes(t, 0);
        for (i = upper; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        i = 0;
        for (; i < upper; i += L) {
            FloatVector.fromArray(S, x, off + i).mul(inv).intoArray(x, off + i);
        }
        for (; i < n; i++) {
            x[off + i] *= inv;
        }
    }

    @Override
    public void swiglu(float[] gate, int gOff, float[] up, int uOff, int n) {
        int upper = S.loopBound(n);
        VectorExp.swiglu(gate, gOff, up, uOff, upper);
        for (int i = upper; i < n; i++) {
            float g = gate[gOff + i];
            gate[gOff + i] = g / (1f + (float) Math.exp(-g)) * up[uOff + i];
        }
    }

    @Override
    public void rope(float[] x, int off, int headDim, float[] cos, float[] sin) {
        int half = headDim / 2;
        int upper = S.loopBound(half);
        int i = 0;
        for (; i < upper; i += L) {
            FloatVector c = FloatVector.fromArray(S, cos, i);
            FloatVector s = FloatVector.fromArray(S, sin, i);
            FloatVector x1 = FloatVector.fromArray(S, x, off + i);
            FloatVector x2 = FloatVector.fromArray(S, x, off + i + half);
            x1.mul(c).sub(x2.mul(s)).intoArray(x, off + i);
            x2.mul(c).add(x1.mul(s)).intoArray(x, off + i + half);
        }
        for (; i < half; i++) {
            float c = cos[i];
            float s = sin[i];
            float x1 = x[off + i];
            float x2 = x[off + i + half];
            x[off + i] = x1 * c - x2 * s;
            x[off + i + half] = x2 * c + x1 * s;
        }
    }
}

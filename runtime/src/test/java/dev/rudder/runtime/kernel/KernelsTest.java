package dev.rudder.runtime.kernel;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class KernelsTest {
    static final int[] SIZES = {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 128, 172, 577, 1536};
    static final float EPS = Math.ulp(1f);

    final ScalarKernels scalar = new ScalarKernels();
    final VectorKernels vector = new VectorKernels();
    final Random rnd = new Random(42);

    float[] rand(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    /** Rigorous-ish bound for a float sum of n terms of total magnitude sumAbs. */
    static double tol(int n, double sumAbs) {
        return 2.0 * (n + 2) * EPS * sumAbs + 1e-30;
    }

    static void close(double expected, double actual, double tol, String what) {
        assertTrue(Math.abs(expected - actual) <= tol,
                () -> what + ": expected " + expected + " got " + actual + " (tol " + tol + ")");
    }

    @Test
    void selectedIsVectorWhenModulePresent() {
        assertTrue(VectorSupport.available());
        if (!Boolean.getBoolean("rudder.scalar")) {
            assertInstanceOf(VectorKernels.class, Kernels.get());
        }
        assertInstanceOf(VectorKernels.class, VectorSupport.vectorKernels());
    }

    @Test
    void dot() {
        for (int n : SIZES) {
            float[] a = rand(n + 5);
            float[] b = rand(n + 3);
            double ref = 0;
            double abs = 0;
            for (int i = 0; i < n; i++) {
                ref += (double) a[5 + i] * b[3 + i];
                abs += Math.abs((double) a[5 + i] * b[3 + i]);
            }
            close(ref, scalar.dot(a, 5, b, 3, n), tol(n, abs), "scalar dot n=" + n);
            close(ref, vector.dot(a, 5, b, 3, n), tol(n, abs), "vector dot n=" + n);
        }
    }

    @Test
    void attentionScoresMatchTheDotOfEachKeyWhateverTheRange() {
        int[] dims = {1, 7, 16, 64, 80, 128};
        for (int n : dims) {
            int positions = 150;
            int stride = 160;
            float[] kT = rand(3 * n * stride);           // [3 heads * n dims, stride]: keys transposed
            float[] q = rand(n + 4);
            int kOff = n * stride;                       // the second head
            float scale = 0.125f;
            float[] whole = new float[stride];
            vector.attentionScores(q, 4, kT, kOff, stride, n, 0, positions, scale, whole);
            float[] ref = new float[stride];
            scalar.attentionScores(q, 4, kT, kOff, stride, n, 0, positions, scale, ref);
            for (int t = 0; t < positions; t++) {
                double exact = 0;
                double abs = 0;
                for (int d = 0; d < n; d++) {
                    exact += (double) q[4 + d] * kT[kOff + d * stride + t];
                    abs += Math.abs((double) q[4 + d] * kT[kOff + d * stride + t]);
                }
                close(exact * scale, whole[t], tol(n, abs) * scale, "vector score n=" + n + " t=" + t);
                close(exact * scale, ref[t], tol(n, abs) * scale, "scalar score n=" + n + " t=" + t);
            }
            // a score is the same bits whatever range it is computed in (chunked prefill = whole prefill)
            for (int[] r : new int[][] {{0, 1}, {3, 4}, {5, 70}, {17, 150}, {149, 150}, {64, 128}, {1, 66}}) {
                float[] part = new float[stride];
                java.util.Arrays.fill(part, Float.NaN);
                vector.attentionScores(q, 4, kT, kOff, stride, n, r[0], r[1], scale, part);
                for (int t = 0; t < stride; t++) {
                    if (t >= r[0] && t < r[1]) {
                        assertEquals(Float.floatToIntBits(whole[t]), Float.floatToIntBits(part[t]), "n=" + n + " t=" + t);
                    } else {
                        assertTrue(Float.isNaN(part[t]), "wrote outside [" + r[0] + ", " + r[1] + ") at " + t);
                    }
                }
            }
        }
    }

    @Test
    void attentionValuesAddTheAxpysBitForBit() {
        int[] dims = {1, 7, 16, 64, 80, 128};
        for (int n : dims) {
            int kvDim = 3 * n + 5;
            float[] v = rand(40 * kvDim);                 // [positions, kvDim]
            float[] p = rand(40);
            for (int[] r : new int[][] {{0, 1}, {0, 40}, {7, 23}}) {
                for (Kernels k : new Kernels[] {scalar, vector}) {
                    float[] want = rand(n + 3);              // what out held before: the kernel adds to it
                    float[] got = want.clone();
                    float[] split = want.clone();
                    for (int t = r[0]; t < r[1]; t++) {
                        k.axpy(p[t], v, n + 1 + t * kvDim, want, 2, n);
                    }
                    k.attentionValues(p, r[0], r[1], v, n + 1, kvDim, got, 2, n);
                    // the range in two calls (a cache read in tiles) continues the same sums
                    int mid = (r[0] + r[1]) / 2;
                    k.attentionValues(p, r[0], mid, v, n + 1, kvDim, split, 2, n);
                    k.attentionValues(p, mid, r[1], v, n + 1, kvDim, split, 2, n);
                    for (int i = 0; i < want.length; i++) {
                        assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]),
                                k.name() + " n=" + n + " range " + r[0] + ".." + r[1] + " i=" + i);
                        assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(split[i]),
                                k.name() + " split at " + mid + " n=" + n + " range " + r[0] + ".." + r[1] + " i=" + i);
                    }
                }
            }
        }
    }

    @Test
    void everySixteenBitPatternWidensExactly() {
        short[] all = new short[1 << 16 | 5];              // every pattern, then five more for a partial vector
        for (int i = 0; i < all.length; i++) {
            all[i] = (short) i;
        }
        for (Kernels k : new Kernels[] {scalar, vector}) {
            for (int off : new int[] {0, 3}) {
                float[] halves = new float[all.length + 1];
                float[] bf16 = new float[all.length + 1];
                k.widenHalves(all, off, halves, 1, all.length - off);
                k.widenBf16(all, off, bf16, 1, all.length - off);
                for (int i = off; i < all.length; i++) {
                    float want = Float.float16ToFloat(all[i]);
                    if (Float.isNaN(want)) {   // NaN stays NaN; whether a signalling one comes out quiet may differ
                        assertTrue(Float.isNaN(halves[1 + i - off]), k.name() + " half 0x" + Integer.toHexString(i & 0xFFFF));
                    } else {
                        assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(halves[1 + i - off]),
                                k.name() + " half 0x" + Integer.toHexString(i & 0xFFFF));
                    }
                    assertEquals(all[i] << 16, Float.floatToRawIntBits(bf16[1 + i - off]),
                            k.name() + " bf16 0x" + Integer.toHexString(i & 0xFFFF));
                }
                assertEquals(0, Float.floatToRawIntBits(halves[0]), "nothing before the destination offset");
            }
        }
    }

    @Test
    void headsSharingKeysAndValuesGetEachHeadsOwnBits() {
        for (int n : new int[] {1, 7, 16, 40, 64, 80, 128}) {
            for (int heads : new int[] {1, 2, 3, 4, 5, 7, 8}) {
                int stride = 170;
                float[] kT = rand(2 * n * stride);           // [2 kv heads * n dims, stride]: keys transposed
                int kvDim = 2 * n + 3;
                float[] v = rand(stride * kvDim);            // [positions, kvDim]
                float[] q = rand(5 + heads * n);
                for (int[] r : new int[][] {{0, 1}, {0, 32}, {3, 70}, {0, 161}, {17, 150}}) {
                    float[][] got = new float[heads][stride];
                    vector.attentionScores(q, 5, heads, kT, n * stride, stride, n, r[0], r[1], 0.3f, got);
                    float[] outGot = rand(heads * n + 2);
                    float[] outWant = outGot.clone();
                    vector.attentionValues(got, heads, r[0], r[1], v, n + 1, kvDim, outGot, 1, n);
                    for (int h = 0; h < heads; h++) {
                        float[] want = new float[stride];
                        vector.attentionScores(q, 5 + h * n, kT, n * stride, stride, n, r[0], r[1], 0.3f, want);
                        for (int t = r[0]; t < r[1]; t++) {
                            assertEquals(Float.floatToIntBits(want[t]), Float.floatToIntBits(got[h][t]),
                                    "score n=" + n + " heads=" + heads + " head " + h + " t=" + t);
                        }
                        vector.attentionValues(want, r[0], r[1], v, n + 1, kvDim, outWant, 1 + h * n, n);
                    }
                    for (int i = 0; i < outWant.length; i++) {
                        assertEquals(Float.floatToIntBits(outWant[i]), Float.floatToIntBits(outGot[i]),
                                "value n=" + n + " heads=" + heads + " range " + r[0] + ".." + r[1] + " i=" + i);
                    }
                }
            }
        }
    }

    @Test
    void rmsnorm() {
        for (int n : SIZES) {
            float[] x = rand(n + 2);
            float[] w = rand(n);
            float eps = 1e-5f;
            double ss = 0;
            for (int i = 0; i < n; i++) {
                ss += (double) x[2 + i] * x[2 + i];
            }
            double inv = 1.0 / Math.sqrt(ss / n + eps);
            float[] o1 = new float[n + 1];
            float[] o2 = new float[n + 1];
            scalar.rmsnorm(o1, 1, x, 2, w, n, eps);
            vector.rmsnorm(o2, 1, x, 2, w, n, eps);
            for (int i = 0; i < n; i++) {
                double ref = w[i] * x[2 + i] * inv;
                double t = 1e-5 * Math.abs(ref) + 1e-7;
                close(ref, o1[1 + i], t, "scalar rmsnorm n=" + n + " i=" + i);
                close(ref, o2[1 + i], t, "vector rmsnorm n=" + n + " i=" + i);
            }
            assertEquals(0f, o2[0]);
        }
    }

    @Test
    void residualAddPlainIsBitIdentical() {
        for (int n : SIZES) {
            float[] x0 = rand(n + 4);
            float[] d = rand(n + 1);
            float[] xs = x0.clone();
            float[] xv = x0.clone();
            float[] xr = x0.clone();
            for (int i = 0; i < n; i++) {
                xr[4 + i] += d[1 + i];
            }
            assertEquals(0f, scalar.residualAdd(xs, 4, d, 1, null, 3f, null, n));
            assertEquals(0f, vector.residualAdd(xv, 4, d, 1, null, 3f, null, n));
            assertArrayEquals(xr, xs, "scalar n=" + n);
            for (int i = 0; i < xr.length; i++) {
                assertEquals(Float.floatToRawIntBits(xr[i]), Float.floatToRawIntBits(xv[i]), "vector n=" + n + " i=" + i);
            }
        }
    }

    @Test
    void residualAddSteerAndProbe() {
        for (int n : SIZES) {
            for (int mode = 0; mode < 4; mode++) {
                boolean hasSteer = (mode & 1) != 0;
                boolean hasProbe = (mode & 2) != 0;
                float[] x0 = rand(n + 3);
                float[] d = rand(n + 2);
                float[] steer = hasSteer ? rand(n) : null;
                float[] probe = hasProbe ? rand(n) : null;
                float scale = 0.75f;
                float[] xs = x0.clone();
                float[] xv = x0.clone();
                float ps = scalar.residualAdd(xs, 3, d, 2, steer, scale, probe, n);
                float pv = vector.residualAdd(xv, 3, d, 2, steer, scale, probe, n);
                double ref = 0;
                double abs = 0;
                for (int i = 0; i < n; i++) {
                    double v = (double) x0[3 + i] + d[2 + i] + (hasSteer ? (double) scale * steer[i] : 0);
                    assertEquals(v, xs[3 + i], 4 * Math.ulp((float) Math.abs(v)) + 1e-6, "x mode=" + mode);
                    // the vector path updates x with exactly the scalar operations
                    assertEquals(Float.floatToRawIntBits(xs[3 + i]), Float.floatToRawIntBits(xv[3 + i]), "x bits mode=" + mode);
                    if (hasProbe) {
                        ref += (double) xs[3 + i] * probe[i];
                        abs += Math.abs((double) xs[3 + i] * probe[i]);
                    }
                }
                assertEquals(x0[0], xv[0]);
                assertEquals(x0[2], xv[2]);
                if (hasProbe) {
                    close(ref, ps, tol(n, abs), "scalar probe n=" + n);
                    close(ref, pv, tol(n, abs), "vector probe n=" + n);
                } else {
                    assertEquals(0f, ps);
                    assertEquals(0f, pv);
                }
            }
        }
    }

    @Test
    void axpy() {
        for (int n : SIZES) {
            float[] x = rand(n + 1);
            float[] y0 = rand(n + 2);
            float a = -1.25f;
            float[] ys = y0.clone();
            float[] yv = y0.clone();
            scalar.axpy(a, x, 1, ys, 2, n);
            vector.axpy(a, x, 1, yv, 2, n);
            for (int i = 0; i < n; i++) {
                double ref = y0[2 + i] + (double) a * x[1 + i];
                double t = 2 * EPS * (Math.abs(y0[2 + i]) + Math.abs(a * x[1 + i])) + 1e-30;
                close(ref, ys[2 + i], t, "scalar axpy");
                close(ref, yv[2 + i], t, "vector axpy");
            }
            assertEquals(y0[0], yv[0]);
            assertEquals(y0[1], yv[1]);
        }
    }

    @Test
    void softmax() {
        for (int n : SIZES) {
            float[] x0 = rand(n + 3);
            for (int i = 0; i < n; i++) {
                x0[3 + i] *= 4;
            }
            float[] xs = x0.clone();
            float[] xv = x0.clone();
            scalar.softmax(xs, 3, n);
            vector.softmax(xv, 3, n);
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                max = Math.max(max, x0[3 + i]);
            }
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += Math.exp(x0[3 + i] - max);
            }
            for (int i = 0; i < n; i++) {
                double ref = Math.exp(x0[3 + i] - max) / sum;
                double t = 1e-5 * ref + 1e-9;
                close(ref, xs[3 + i], t, "scalar softmax n=" + n);
                close(ref, xv[3 + i], t, "vector softmax n=" + n);
            }
            assertEquals(x0[2], xv[2]);
        }
    }

    @Test
    void swiglu() {
        for (int n : SIZES) {
            float[] g0 = rand(n + 1);
            for (int i = 0; i < g0.length; i++) {
                g0[i] *= 6;
            }
            float[] up = rand(n + 2);
            float[] gs = g0.clone();
            float[] gv = g0.clone();
            scalar.swiglu(gs, 1, up, 2, n);
            vector.swiglu(gv, 1, up, 2, n);
            for (int i = 0; i < n; i++) {
                double g = g0[1 + i];
                double ref = g / (1 + Math.exp(-g)) * up[2 + i];
                double t = 1e-5 * Math.abs(ref) + 1e-9;
                close(ref, gs[1 + i], t, "scalar swiglu");
                close(ref, gv[1 + i], t, "vector swiglu");
            }
            assertEquals(g0[0], gv[0]);
        }
    }

    @Test
    void swigluExtremes() {
        float[] g = {-200f, -90f, -20f, 0f, 20f, 90f, 200f, Float.NEGATIVE_INFINITY, -0f};
        float[] up = {1, 1, 1, 1, 1, 1, 1, 1, 1};
        float[] gs = g.clone();
        float[] gv = g.clone();
        scalar.swiglu(gs, 0, up, 0, g.length);
        vector.swiglu(gv, 0, up, 0, g.length);
        for (int i = 0; i < g.length - 2; i++) {
            assertEquals(gs[i], gv[i], 1e-6 * Math.abs(gs[i]) + 1e-30, "i=" + i);
        }
    }

    @Test
    void rope() {
        for (int headDim : new int[] {2, 8, 16, 30, 32, 64, 128, 130}) {
            int half = headDim / 2;
            float[] x0 = rand(headDim + 5);
            float[] cos = new float[half];
            float[] sin = new float[half];
            for (int i = 0; i < half; i++) {
                double ang = 7 * Math.pow(10000, -2.0 * i / headDim);
                cos[i] = (float) Math.cos(ang);
                sin[i] = (float) Math.sin(ang);
            }
            float[] xs = x0.clone();
            float[] xv = x0.clone();
            scalar.rope(xs, 5, headDim, cos, sin);
            vector.rope(xv, 5, headDim, cos, sin);
            for (int i = 0; i < x0.length; i++) {
                assertEquals(Float.floatToRawIntBits(xs[i]), Float.floatToRawIntBits(xv[i]), "headDim=" + headDim + " i=" + i);
            }
            for (int i = 0; i < half; i++) {
                double x1 = x0[5 + i], x2 = x0[5 + i + half];
                close(x1 * cos[i] - x2 * sin[i], xs[5 + i], 1e-6 * (Math.abs(x1) + Math.abs(x2)), "rope");
                close(x2 * cos[i] + x1 * sin[i], xs[5 + i + half], 1e-6 * (Math.abs(x1) + Math.abs(x2)), "rope");
            }
        }
    }
}

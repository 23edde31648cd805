package dev.rudder.runtime.kernel;

/** Plain-Java reference kernels: the definition every optimised kernel is tested against. */
public final class ScalarKernels implements Kernels {

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void rmsnorm(float[] out, int oOff, float[] x, int xOff, float[] w, int n, float eps) {
        float ss = 0f;
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i];
            ss += v * v;
        }
        float inv = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) {
            out[oOff + i] = w[i] * (x[xOff + i] * inv);
        }
    }

    @Override
    public float residualAdd(float[] x, int xOff, float[] delta, int dOff, float[] steer, float scale, float[] probe, int n) {
        float acc = 0f;
        for (int i = 0; i < n; i++) {
            float v = x[xOff + i] + delta[dOff + i];
            if (steer != null) {
                v += scale * steer[i];
            }
            x[xOff + i] = v;
            if (probe != null) {
                acc += v * probe[i];
            }
        }
        return acc;
    }

    @Override
    public float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        float acc = 0f;
        for (int i = 0; i < n; i++) {
            acc += a[aOff + i] * b[bOff + i];
        }
        return acc;
    }

    @Override
    public void axpy(float a, float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] += a * x[xOff + i];
        }
    }

    @Override
    public void attentionScores(float[] q, int qOff, float[] kT, int kOff, int stride, int n, int t0, int t1, float scale,
                                float[] out) {
        for (int t = t0; t < t1; t++) {
            float acc = 0f;
            for (int d = 0; d < n; d++) {
                acc += q[qOff + d] * kT[kOff + d * stride + t];
            }
            out[t] = acc * scale;
        }
    }

    @Override
    public void attentionValues(float[] p, int t0, int t1, float[] v, int vOff, int vStride, float[] out, int oOff, int n) {
        for (int t = t0; t < t1; t++) {
            axpy(p[t], v, vOff + t * vStride, out, oOff, n);
        }
    }

    @Override
    public void widenHalves(short[] src, int sOff, float[] dst, int dOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dOff + i] = Float.float16ToFloat(src[sOff + i]);
        }
    }

    @Override
    public void widenBf16(short[] src, int sOff, float[] dst, int dOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dOff + i] = Float.intBitsToFloat(src[sOff + i] << 16);
        }
    }

    @Override
    public void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[off + i]);
        }
        float sum = 0f;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = 1f / sum;
        for (int i = 0; i < n; i++) {
            x[off + i] *= inv;
        }
    }

    @Override
    public void swiglu(float[] gate, int gOff, float[] up, int uOff, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[gOff + i];
            gate[gOff + i] = g / (1f + (float) Math.exp(-g)) * up[uOff + i];
        }
    }

    @Override
    public void rope(float[] x, int off, int headDim, float[] cos, float[] sin) {
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            float c = cos[i];
            float s = sin[i];
            float x1 = x[off + i];
            float x2 = x[off + i + half];
            x[off + i] = x1 * c - x2 * s;
            x[off + i + half] = x2 * c + x1 * s;
        }
    }
}

package dev.rudder.runtime.kernel;

/**
 * The element-wise and reduction kernels of the forward pass, on float32 heap arrays.
 * Two implementations: {@link ScalarKernels} (the reference every test compares against) and
 * {@link VectorKernels} (jdk.incubator.vector). {@link #get()} picks the Vector API one when the
 * incubator module is readable, else warns once on stderr and falls back to scalar code.
 * All methods are allocation-free.
 */
public interface Kernels {

    static Kernels get() {
        return KernelSelector.SELECTED;
    }

    String name();

    /** {@code out[oOff+i] = x[xOff+i] / rms(x) * w[i]}, rms over n elements with eps. */
    void rmsnorm(float[] out, int oOff, float[] x, int xOff, float[] w, int n, float eps);

    /**
     * The residual-stream seam (DESIGN.md §3), one pass over the hidden state:
     * {@code x[i] += delta[i] + scale * steer[i]} and returns {@code sum(x_new[i] * probe[i])}.
     * {@code steer == null} means no steering (and scale is ignored); {@code probe == null}
     * means no probe (returns 0). With both null this is exactly {@code x[i] += delta[i]}.
     */
    float residualAdd(float[] x, int xOff, float[] delta, int dOff, float[] steer, float scale, float[] probe, int n);

    /** {@code sum(a[aOff+i] * b[bOff+i])} for i in [0, n). */
    float dot(float[] a, int aOff, float[] b, int bOff, int n);

    /** {@code y[yOff+i] += a * x[xOff+i]}. */
    void axpy(float a, float[] x, int xOff, float[] y, int yOff, int n);

    /**
     * Attention scores against keys stored transposed ({@code kT[kOff + d*stride + t]}: one row of positions per
     * head dimension): {@code out[t] = scale * sum_d q[qOff+d] * kT[kOff + d*stride + t]} for t in [t0, t1), the sum
     * of each score one chain over d in order, so a score does not depend on t0, t1 or the other positions.
     */
    void attentionScores(float[] q, int qOff, float[] kT, int kOff, int stride, int n, int t0, int t1, float scale,
                         float[] out);

    /**
     * Attention output, added to what {@code out} holds: {@code out[oOff+d] += sum_t p[t] * v[vOff + t*vStride + d]}
     * for d in [0, n), t in [t0, t1) in order, exactly as {@link #axpy}{@code (p[t], v, vOff + t*vStride, out, oOff,
     * n)} per t. Callers zero {@code out} first; a range split over several calls gives the bits of one call, so a
     * cache read in tiles (a 16-bit cache widened a block of positions at a time) sums as the whole range does.
     */
    void attentionValues(float[] p, int t0, int t1, float[] v, int vOff, int vStride, float[] out, int oOff, int n);

    /**
     * {@link #attentionScores} for {@code heads} query heads that share these keys (grouped-query attention): head
     * j's query at {@code q[qOff + j*n ..)}, its scores to {@code out[j]}, each exactly what the one-head call gives.
     * An implementation may read each key once for all of them.
     */
    default void attentionScores(float[] q, int qOff, int heads, float[] kT, int kOff, int stride, int n, int t0, int t1,
                                 float scale, float[][] out) {
        for (int j = 0; j < heads; j++) {
            attentionScores(q, qOff + j * n, kT, kOff, stride, n, t0, t1, scale, out[j]);
        }
    }

    /**
     * {@link #attentionValues} for {@code heads} query heads that share these values: head j's weights {@code p[j]},
     * its output at {@code out[oOff + j*n ..)}, each exactly what the one-head call gives.
     */
    default void attentionValues(float[][] p, int heads, int t0, int t1, float[] v, int vOff, int vStride, float[] out,
                                 int oOff, int n) {
        for (int j = 0; j < heads; j++) {
            attentionValues(p[j], t0, t1, v, vOff, vStride, out, oOff + j * n, n);
        }
    }

    /**
     * {@code dst[dOff + i] = } the IEEE half {@code src[sOff + i]} as a float, i < n: exact, infinities kept, NaN stays
     * NaN (a signalling one may come out quiet or not).
     */
    void widenHalves(short[] src, int sOff, float[] dst, int dOff, int n);

    /** {@code dst[dOff + i] = } the bfloat16 {@code src[sOff + i]} as a float (exact), i < n. */
    void widenBf16(short[] src, int sOff, float[] dst, int dOff, int n);

    /** In-place softmax over {@code x[off .. off+n)}, max-subtracted. */
    void softmax(float[] x, int off, int n);

    /** SwiGLU: {@code gate[gOff+i] = silu(gate[gOff+i]) * up[uOff+i]}. */
    void swiglu(float[] gate, int gOff, float[] up, int uOff, int n);

    /**
     * Rotary embedding, Hugging Face "rotate_half" layout, in place on one head vector
     * {@code x[off .. off+headDim)}: for i < headDim/2, with {@code c = cos[i], s = sin[i]}
     * (tables of length headDim/2 for this position):
     * {@code x1 = x[i], x2 = x[i+half]; x[i] = x1*c - x2*s; x[i+half] = x2*c + x1*s}.
     */
    void rope(float[] x, int off, int headDim, float[] cos, float[] sin);
}

package dev.rudder.runtime.tensor;

/**
 * Per-thread scratch buffers for the matrix kernels (grown on demand, never shrunk). Who uses
 * which: {@link #x} the drivers' prepared inputs, {@link #w} widened weights (matmul driver,
 * row-widening kernels), {@link #h} raw 16-bit weights, {@link #t} lane sums, {@link #res} the
 * four results of a {@link RowKernel#dot4}, {@link #resN} those of a {@link RowKernel#dot4xN},
 * {@link #batchOut} those of several row groups gathered by the batch driver, {@link #scales} a
 * super-block's scales in the K-quant kernels.
 */
final class Scratch {
    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    private float[] x = new float[0];
    private float[] w = new float[0];
    private short[] h = new short[0];
    private float[] t = new float[0];
    private float[] batchOut = new float[0];
    private final float[] res = new float[4];
    private final float[] resN = new float[4 * RowKernel.MAX_BATCH];
    private final float[] scales = new float[16];

    static Scratch get() {
        return LOCAL.get();
    }

    /** A buffer for (rearranged or transposed) activations, at least {@code n} floats. */
    float[] x(int n) {
        if (x.length < n) {
            x = new float[n];
        }
        return x;
    }

    /** A small buffer for lane sums, at least {@code n} floats. */
    float[] t(int n) {
        if (t.length < n) {
            t = new float[n];
        }
        return t;
    }

    /** A buffer for gathered batch results, at least {@code n} floats. */
    float[] batchOut(int n) {
        if (batchOut.length < n) {
            batchOut = new float[n];
        }
        return batchOut;
    }

    /** A buffer for raw 16-bit weights, at least {@code n} shorts. */
    short[] h(int n) {
        if (h.length < n) {
            h = new short[n];
        }
        return h;
    }

    /** A buffer for widened weight rows, at least {@code n} floats. */
    float[] w(int n) {
        if (w.length < n) {
            w = new float[n];
        }
        return w;
    }

    /** Four floats for the results of one {@link RowKernel#dot4}. */
    float[] res() {
        return res;
    }

    /**
     * 16 floats for a super-block's scales made floats once: Q6_K's 16 scales times its d, [16 groups of 16 weights];
     * Q4_K's and Q5_K's {@link KScales#table}, [8 scales, 8 mins].
     */
    float[] scales() {
        return scales;
    }

    /** The results of one {@link RowKernel#dot4xN}, {@code [MAX_BATCH inputs, 4 rows]}. */
    float[] resN() {
        return resN;
    }
}

package dev.rudder.runtime.tensor;

/** Per-thread float scratch buffers for the matrix kernels (grown on demand, never shrunk). */
final class Scratch {
    private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);

    private float[] x = new float[0];
    private float[] w = new float[0];
    private short[] h = new short[0];
    private float[] t = new float[0];

    static Scratch get() {
        return LOCAL.get();
    }

    /** A buffer for (permuted) activations, at least {@code n} floats. */
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
}

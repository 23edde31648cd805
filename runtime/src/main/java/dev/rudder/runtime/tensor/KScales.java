package dev.rudder.runtime.tensor;

/**
 * The eight 6-bit scales and mins of a Q4_K/Q5_K super-block (ggml's {@code get_scale_min_k4}) from its 12 packed
 * scale bytes read as three little-endian words, branch-free once a caller's loop over sub-blocks is unrolled. The
 * vector kernels decode them in scalar code on purpose: decoding them in vectors inside the row loop pushed C2 past
 * its inlining node budget on some compilations (the callee then stayed a call and the kernel's vectors were boxed,
 * 5x slower), and byte by byte as ggml does cost as much as the dot product.
 */
final class KScales {
    private KScales() {
    }

    /** Scale j (0..7) of a super-block whose scale bytes are the words w0, w1, w2 (w1 not needed). */
    static int scale(int w0, int w2, int j) {
        return j < 4 ? (w0 >>> 8 * j) & 63 : ((w2 >>> 8 * (j - 4)) & 0xF) | ((w0 >>> 8 * (j - 4) + 6) & 3) << 4;
    }

    /** Min j (0..7) of a super-block whose scale bytes are the words w0, w1, w2 (w0 not needed). */
    static int min(int w1, int w2, int j) {
        return j < 4 ? (w1 >>> 8 * j) & 63 : ((w2 >>> 8 * (j - 4) + 4) & 0xF) | ((w1 >>> 8 * (j - 4) + 6) & 3) << 4;
    }
}

package dev.rudder.runtime.tensor;

/**
 * What a storage type contributes to the vector path; the drivers in {@link SegmentMatrix}
 * (row streams, batches, tiling, the scalar reference) do the rest.
 *
 * <p>Contract: {@link #dot4} computes each of its four results exactly as {@link #dot1} would
 * (same operations, same order, only interleaved), so a row's result never depends on which
 * path the driver chose for it. {@link #dot4xN} likewise for each of its results: it only
 * widens each weight block once for several inputs. {@code x} is already in {@link #order()}.
 */
interface RowKernel {
    /** The column order inputs are prepared in (once per call) and rows are widened in. */
    default ColumnOrder order() {
        return ColumnOrder.NATURAL;
    }

    /** {@code res[k] = dot(row r_k, x[xOff .. xOff+cols))} for four rows read as four memory streams. */
    void dot4(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] res);

    /** Most inputs per {@link #dot4xN} call (the driver cuts larger batches). */
    int MAX_BATCH = 16;

    /**
     * Four rows times {@code n} inputs (2 to {@link #MAX_BATCH}), for batches: input i at
     * {@code x[base + i*stride ..)}, {@code res[4*i + k] = dot(row r_k, input i)}, each bit-identical to
     * {@link #dot1} of that row and input (same FMA chain per (row, input) accumulator, same lane sum, same
     * tail), while each weight block is read and widened once for several inputs. This default is one
     * {@link #dot4} per input.
     */
    default void dot4xN(int r0, int r1, int r2, int r3, float[] x, int base, int stride, int n, float[] res) {
        float[] one = Scratch.get().res();
        for (int i = 0; i < n; i++) {
            dot4(r0, r1, r2, r3, x, base + i * stride, one);
            System.arraycopy(one, 0, res, 4 * i, 4);
        }
    }

    /** {@code dot(row, x[xOff .. xOff+cols))}, bit-identical to the same row in {@link #dot4}. */
    float dot1(int row, float[] x, int xOff);

    /**
     * Row {@code row} widened (dequantized) to float32 into {@code dst[off .. off+cols)}, in
     * {@link #order()}: the matmul driver runs its float kernel on these. Must not use
     * {@link Scratch#x} or {@link Scratch#w} (the matmul driver holds them).
     */
    void widen(int row, float[] dst, int off);
}

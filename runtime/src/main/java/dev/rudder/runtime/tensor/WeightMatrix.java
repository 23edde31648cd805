package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;

/**
 * A read-only 2-D weight tensor {@code [rows, cols]} in row-major order, stored in some
 * {@link DType} (usually memory-mapped straight from a model file). Activations are always
 * float32 on the heap. Callers split work by row ranges (one range per worker thread).
 *
 * <p>Every output element of {@link #matvec} and {@link #matvecBatch} is computed in one fixed
 * order that depends only on the matrix row and the input, not on the row range, the batch size
 * or the thread count: the same input gives the same bits however the work is split.
 */
public interface WeightMatrix {
    int rows();

    int cols();

    DType dtype();

    /** Bytes of stored weights (what one full matvec reads). */
    long byteSize();

    /** {@code out[outOff + r] = dot(row r, x[xOff .. xOff+cols))} for r in [rowStart, rowEnd). */
    void matvec(float[] x, int xOff, float[] out, int outOff, int rowStart, int rowEnd);

    /**
     * {@code n} matrix-vector products with the weights read once (batched decode): input i is
     * {@code x[i*xStride .. i*xStride+cols)}, its result row r goes to {@code out[i*outStride + r]}
     * for r in [rowStart, rowEnd). Each output is bit-identical to {@link #matvec} of that input
     * alone, for any n.
     */
    void matvecBatch(float[] x, int n, int xStride, float[] out, int outStride, int rowStart, int rowEnd);

    /**
     * Batched product for prefill: {@code x} holds {@code n} activation rows of length
     * {@code cols} (row i at {@code i*cols}); {@code out} gets {@code n} rows of length
     * {@code outStride} (row i at {@code i*outStride}), columns [rowStart, rowEnd) are written.
     * Reads each weight row once for all n inputs (compute bound instead of memory bound). The
     * summation order may differ from {@link #matvec} (within float rounding).
     */
    void matmul(float[] x, int n, float[] out, int outStride, int rowStart, int rowEnd);

    /** Widens row {@code row} to float32 into {@code dst[dstOff .. dstOff+cols)} (embedding lookup). */
    void readRow(int row, float[] dst, int dstOff);
}

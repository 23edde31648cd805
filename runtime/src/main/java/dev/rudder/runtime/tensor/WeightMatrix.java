package dev.rudder.runtime.tensor;

/**
 * A read-only 2-D weight tensor {@code [rows, cols]} in row-major order, stored in some dtype
 * (usually memory-mapped straight from a safetensors file). Activations are always float32 on
 * the heap. Each dtype has its own implementation holding a scalar and a Vector API path side
 * by side; callers split work by row ranges (one range per worker thread).
 */
public interface WeightMatrix {
    int rows();

    int cols();

    String dtype();

    /** {@code out[outOff + r] = dot(row r, x[xOff .. xOff+cols))} for r in [rowStart, rowEnd). */
    void matvec(float[] x, int xOff, float[] out, int outOff, int rowStart, int rowEnd);

    /**
     * Batched product for prefill: {@code x} holds {@code n} activation rows of length
     * {@code cols} (row i at {@code i*cols}); {@code out} gets {@code n} rows of length
     * {@code outStride} (row i at {@code i*outStride}), columns [rowStart, rowEnd) are written.
     * Reads each weight row once for all n inputs (compute bound instead of memory bound).
     */
    void matmul(float[] x, int n, float[] out, int outStride, int rowStart, int rowEnd);

    /** Widens row {@code row} to float32 into {@code dst[dstOff .. dstOff+cols)} (embedding lookup). */
    void readRow(int row, float[] dst, int dstOff);
}

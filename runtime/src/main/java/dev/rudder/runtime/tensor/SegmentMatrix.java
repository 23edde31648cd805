package dev.rudder.runtime.tensor;

import dev.rudder.runtime.kernel.VectorSupport;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/** Common state of the dtype matrices: a read-only little-endian row-major segment. */
abstract sealed class SegmentMatrix implements WeightMatrix permits F32Matrix, F16Matrix, BF16Matrix {
    /** Vector API paths unless the module is absent or -Drudder.scalar=true. */
    static final boolean VECTOR_DEFAULT = VectorSupport.useVector();

    final MemorySegment data;
    final int rows;
    final int cols;
    final boolean vector;

    SegmentMatrix(MemorySegment data, int rows, int cols, int elementBytes, boolean vector) {
        Objects.requireNonNull(data, "data");
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative shape [" + rows + ", " + cols + "]");
        }
        long expected = (long) rows * cols * elementBytes;
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("weight data has " + data.byteSize() + " bytes, shape [" + rows + ", "
                    + cols + "] of " + dtypeName() + " needs " + expected);
        }
        this.data = data.isReadOnly() ? data : data.asReadOnly();
        this.rows = rows;
        this.cols = cols;
        this.vector = vector;
    }

    abstract String dtypeName();

    @Override
    public final int rows() {
        return rows;
    }

    @Override
    public final int cols() {
        return cols;
    }

    @Override
    public final String dtype() {
        return dtypeName();
    }

    /** The underlying read-only segment (row-major, little-endian). */
    public final MemorySegment segment() {
        return data;
    }

    /** Whether this instance runs the Vector API path. */
    public final boolean isVector() {
        return vector;
    }

    /** The scalar reference for {@link #matmul}, the same for every dtype: widen a row, dot it with each input. */
    final void matmulScalar(float[] x, int n, float[] out, int outStride, int rowStart, int rowEnd) {
        float[] w = Scratch.get().w(cols);
        for (int r = rowStart; r < rowEnd; r++) {
            readRow(r, w, 0);
            for (int i = 0; i < n; i++) {
                int xa = i * cols;
                float acc = 0f;
                for (int c = 0; c < cols; c++) {
                    acc += w[c] * x[xa + c];
                }
                out[i * outStride + r] = acc;
            }
        }
    }

    final void checkRows(int rowStart, int rowEnd) {
        if (rowStart < 0 || rowEnd > rows || rowStart > rowEnd) {
            throw new IndexOutOfBoundsException("row range [" + rowStart + ", " + rowEnd + ") of " + rows + " rows");
        }
    }

    @Override
    public String toString() {
        return dtypeName() + "[" + rows + ", " + cols + "]" + (vector ? "" : " (scalar)");
    }
}

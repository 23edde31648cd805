package dev.rudder.runtime.tensor;

import dev.rudder.runtime.kernel.VectorSupport;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Common part of the block-quantized weight types (ggml's Q8_0, Q4_0, Q4_K, Q5_K, Q6_K): a read-only row-major
 * segment where each row is {@code cols / blockSize} blocks of {@code blockBytes}. A subclass holds only what
 * differs: how a block is dequantized (the scalar reference, exactly as ggml's {@code dequantize_row_*}) and how a
 * row is dotted with float activations on the Vector API path.
 *
 * <p>Activations stay float32: a weight is dequantized and multiplied in float (llama.cpp instead rounds the
 * activations to 8 bits and multiplies integers; see README, "GGUF and quantized weights").
 */
public abstract sealed class BlockMatrix implements WeightMatrix
        permits Q8_0Matrix, Q4_0Matrix, Q4KMatrix, Q5KMatrix, Q6KMatrix {
    static final boolean VECTOR_DEFAULT = VectorSupport.useVector();
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final MemorySegment data;   // [rows, cols / blockSize blocks]
    final int rows;
    final int cols;
    final long rowBytes;
    final boolean vector;

    BlockMatrix(MemorySegment data, int rows, int cols, int blockSize, int blockBytes, boolean vector) {
        Objects.requireNonNull(data, "data");
        if (rows < 0 || cols < 0 || cols % blockSize != 0) {
            throw new IllegalArgumentException("shape [" + rows + ", " + cols + "] of " + getClass().getSimpleName()
                    + ": rows must hold whole blocks of " + blockSize);
        }
        this.rowBytes = (long) cols / blockSize * blockBytes;
        if (data.byteSize() != rowBytes * rows) {
            throw new IllegalArgumentException("weight data has " + data.byteSize() + " bytes, shape [" + rows + ", "
                    + cols + "] of " + dtype() + " needs " + rowBytes * rows);
        }
        this.data = data.isReadOnly() ? data : data.asReadOnly();
        this.rows = rows;
        this.cols = cols;
        this.vector = vector;
    }

    /** Dequantizes {@code n} elements (whole blocks) starting at byte {@code offset} into {@code dst[dOff ..)}. */
    abstract void dequantize(long offset, float[] dst, int dOff, int n);

    /**
     * The Vector API dot product of row {@code r} with {@code x[xOff .. xOff+cols)}; {@code lanes} is scratch of
     * {@code VecOps.L} floats for the fixed-order lane sum. This default dequantizes the row with the scalar code and
     * runs the float dot product; a type overrides it where a fused loop pays.
     */
    float dotVector(int r, float[] x, int xOff, float[] lanes) {
        float[] w = Scratch.get().w(cols);
        dequantize(r * rowBytes, w, 0, cols);
        return VecOps.dot(w, 0, x, xOff, cols, lanes);
    }

    @Override
    public final int rows() {
        return rows;
    }

    @Override
    public final int cols() {
        return cols;
    }

    /** The underlying read-only segment. */
    public final MemorySegment segment() {
        return data;
    }

    /** Whether this instance runs the Vector API path. */
    public final boolean isVector() {
        return vector;
    }

    static float f16(MemorySegment seg, long offset) {
        return Float.float16ToFloat(seg.get(SHORT_LE, offset));
    }

    @Override
    public final void readRow(int row, float[] dst, int dstOff) {
        checkRows(row, row + 1);
        dequantize(row * rowBytes, dst, dstOff, cols);
    }

    @Override
    public final void matvec(float[] x, int xOff, float[] out, int outOff, int rowStart, int rowEnd) {
        checkRows(rowStart, rowEnd);
        if (vector) {
            float[] lanes = Scratch.get().t(VecOps.L);
            for (int r = rowStart; r < rowEnd; r++) {
                out[outOff + r] = dotVector(r, x, xOff, lanes);
            }
            return;
        }
        float[] w = Scratch.get().w(cols);
        for (int r = rowStart; r < rowEnd; r++) {
            dequantize(r * rowBytes, w, 0, cols);
            float acc = 0f;
            for (int c = 0; c < cols; c++) {
                acc += w[c] * x[xOff + c];
            }
            out[outOff + r] = acc;
        }
    }

    @Override
    public final void matmul(float[] x, int n, float[] out, int outStride, int rowStart, int rowEnd) {
        checkRows(rowStart, rowEnd);
        if (vector && n >= 4) {
            // dequantize a block of rows once, then the shared float kernel runs all n inputs against it
            VecOps.matmulXT((r, dst, off) -> dequantize(r * rowBytes, dst, off, cols), false, cols, x, n, out,
                    outStride, rowStart, rowEnd);
            return;
        }
        if (vector) {
            for (int i = 0; i < n; i++) {
                matvec(x, i * cols, out, i * outStride, rowStart, rowEnd);
            }
            return;
        }
        float[] w = Scratch.get().w(cols);
        for (int r = rowStart; r < rowEnd; r++) {
            dequantize(r * rowBytes, w, 0, cols);
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
        return dtype() + "[" + rows + ", " + cols + "]" + (vector ? "" : " (scalar)");
    }
}

package dev.rudder.runtime.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Common part of the block-quantized weight types (ggml's Q8_0, Q4_0, Q4_K, Q5_K, Q6_K): each row is
 * {@code cols / blockSize} blocks of {@code blockBytes}. A subclass holds only what differs: how blocks are
 * dequantized (the scalar reference, exactly ggml's {@code dequantize_row_*}) and its fused Vector API row dot
 * (block bytes widened to float lanes, multiplied with the activations, scaled per block); the drivers of {@link SegmentMatrix} do the rest (the matmul driver dequantizes rows and runs the float
 * kernel).
 *
 * <p>Activations stay float32: a weight is dequantized and multiplied in float (llama.cpp instead rounds the
 * activations to 8 bits and multiplies integers; see README, "GGUF files and quantized weights").
 */
abstract sealed class BlockMatrix extends SegmentMatrix permits Q8_0Matrix, Q4_0Matrix, Q4KMatrix, Q5KMatrix, Q6KMatrix {
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    BlockMatrix(MemorySegment data, int rows, int cols, int blockSize, int blockBytes, boolean vector) {
        super(data, rows, cols, rowBytes(cols, blockSize, blockBytes), vector);
    }

    private static long rowBytes(int cols, int blockSize, int blockBytes) {
        if (cols % blockSize != 0) {
            throw new IllegalArgumentException(cols + " columns are not whole blocks of " + blockSize);
        }
        return (long) cols / blockSize * blockBytes;
    }

    /** Bytes per row. */
    final long rowBytes() {
        return data.byteSize() / Math.max(1, rows);
    }

    /** Dequantizes {@code n} elements (whole blocks) starting at byte {@code offset} into {@code dst[dOff ..)}. */
    abstract void dequantize(long offset, float[] dst, int dOff, int n);

    @Override
    final void rowToFloats(int row, float[] dst, int off) {
        dequantize(row * rowBytes(), dst, off, cols);
    }

    static float f16(MemorySegment seg, long offset) {
        return Float.float16ToFloat(seg.get(SHORT_LE, offset));
    }
}

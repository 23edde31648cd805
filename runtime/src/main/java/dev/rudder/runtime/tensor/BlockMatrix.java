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

    /**
     * What every block type's vector kernel shares: the row stride, {@code dot4} as four {@code dot1} calls (so a
     * row's bits are {@code dot1}'s whichever path the driver takes; a type may interleave rows instead, keeping
     * that contract), and widening (matmul) by the exact scalar dequantization.
     */
    abstract static class BlockKernel implements RowKernel {
        final BlockMatrix m;
        final long rowBytes;

        BlockKernel(BlockMatrix m) {
            this.m = m;
            this.rowBytes = m.rowBytes();
        }

        @Override
        public void dot4(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] res) {
            res[0] = dot1(r0, x, xOff);
            res[1] = dot1(r1, x, xOff);
            res[2] = dot1(r2, x, xOff);
            res[3] = dot1(r3, x, xOff);
        }

        @Override
        public void widen(int row, float[] dst, int off) {
            m.rowToFloats(row, dst, off);
        }
    }

    static float f16(MemorySegment seg, long offset) {
        return Float.float16ToFloat(seg.get(SHORT_LE, offset));
    }
}

package dev.rudder.runtime.tensor;

import dev.rudder.runtime.kernel.Vectors;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Common part of the block-quantized weight types (ggml's Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, IQ4_XS, Q2_K, Q3_K,
 * Q4_K, Q5_K, Q6_K):
 * each row is {@code cols / blockSize} blocks of {@code blockBytes}. A subclass holds only what differs: how blocks are
 * dequantized (the scalar reference, exactly ggml's {@code dequantize_row_*}) and its fused Vector API row dot
 * (block bytes widened to float lanes, multiplied with the activations, scaled per block); the drivers of {@link SegmentMatrix} do the rest (the matmul driver dequantizes rows and runs the float
 * kernel).
 *
 * <p>Activations stay float32: a weight is dequantized and multiplied in float (llama.cpp instead rounds the
 * activations to 8 bits and multiplies integers; see README, "GGUF files and quantized weights").
 */
abstract sealed class BlockMatrix extends SegmentMatrix permits Q8_0Matrix, Q4_0Matrix, Q4_1Matrix, Q5_0Matrix,
        Q5_1Matrix, IQ4_NLMatrix, IQ4_XSMatrix, Q2KMatrix, Q3KMatrix, Q4KMatrix, Q5KMatrix, Q6KMatrix {
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    BlockMatrix(MemorySegment data, int rows, int cols, int blockSize, int blockBytes, boolean vector) {
        super(data, rows, cols, rowBytes(cols, blockSize, blockBytes), vector && vectorKernels());
    }

    /**
     * Whether the block kernels run on this machine: they load L bytes per float vector, and with 4 float lanes (ARM
     * NEON, or x86 limited to 128-bit vectors) there is no 32-bit byte vector; block types then take the scalar path.
     * Only called when the Vector API is in use.
     */
    private static boolean vectorKernels() {
        return Vectors.L >= 8;
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
     * What every block type's vector kernel shares: the row stride, the lane sums (a type supplies its row's
     * accumulator lanes, {@link #lanes}; {@code dot1}, {@code dot4} and {@code dot4xN} sum 1, 4 or 4n of them at
     * once with {@link Vectors#laneSums}, so a row's bits are the same whichever path the driver takes), the
     * L-byte load ({@link #ints}), and a default widening
     * (matmul) by the exact scalar dequantization, which the types override with the same bits in vectors.
     */
    abstract static class BlockKernel implements RowKernel {
        /** L bytes (16 on AVX-512, 8 on AVX2): one float vector's worth of 8-bit quants. */
        static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(Vectors.L * 8));

        final BlockMatrix m;
        final long rowBytes;
        /**
         * Whether every byte offset of the matrix fits an int: C2 keeps the memory segment's range checks out of an
         * int-indexed loop (5-15% from DRAM); past 2 GiB rows go through long-offset loops or slices of their own.
         */
        final boolean intOffsets;

        BlockKernel(BlockMatrix m) {
            this.m = m;
            this.rowBytes = m.rowBytes();
            this.intOffsets = m.data.byteSize() < Integer.MAX_VALUE - 64;
        }

        /**
         * Row {@code row} as a segment of its own (offsets from the row's start): how the Q8_0, Q4_0 and IQ4_NL kernels
         * read rows (fewer instructions per load than int offsets into the whole matrix) and the K types' long-offset
         * path past 2 GiB.
         */
        final MemorySegment rowSegment(int row) {
            return m.data.asSlice(row * rowBytes, rowBytes);
        }

        /**
         * The L bytes at {@code o}, sign-extended to int lanes. Kernels load L bytes per float vector: converting a
         * later part of a wider byte vector ({@code convertShape(B2F, F, 1)}) is not intrinsified, and C2 allocated a
         * vector per call (K-quant decode ran at 1-3 G weights/s).
         */
        static IntVector ints(MemorySegment seg, long o) {
            return (IntVector) ByteVector.fromMemorySegment(BYTES, seg, o, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2I, Vectors.I, 0);
        }

        /** The fused dot of {@code row} with {@code x[xOff ..)} before its lane sum: accumulator lanes to {@code t[tOff .. tOff+L)}. */
        abstract void lanes(int row, float[] x, int xOff, float[] t, int tOff);

        /**
         * {@link #lanes} of four rows to {@code t[tOff + k*L ..)}: two pairs through {@link #lanes2} when offsets fit
         * an int, else row by row. (Four rows in one loop pass C2's inlining node budget.)
         */
        final void lanes4(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] t, int tOff) {
            if (intOffsets) {
                lanes2(r0, r1, x, xOff, t, tOff);
                lanes2(r2, r3, x, xOff, t, tOff + 2 * Vectors.L);
            } else {
                lanes(r0, x, xOff, t, tOff);
                lanes(r1, x, xOff, t, tOff + Vectors.L);
                lanes(r2, x, xOff, t, tOff + 2 * Vectors.L);
                lanes(r3, x, xOff, t, tOff + 3 * Vectors.L);
            }
        }

        /**
         * {@link #lanes} of rows rA and rB to {@code t[tOff ..)} and {@code t[tOff + L ..)}, called only with int
         * offsets; a type may stream both rows in one loop (two memory streams sharing the activation loads), with
         * each row's operations in {@link #lanes}'s order (same bits).
         */
        void lanes2(int rA, int rB, float[] x, int xOff, float[] t, int tOff) {
            lanes(rA, x, xOff, t, tOff);
            lanes(rB, x, xOff, t, tOff + Vectors.L);
        }

        /**
         * {@link #lanes2} of rows rA and rB with two inputs, at {@code xa} (to {@code t[ta ..)}, {@code t[ta + L ..)})
         * and {@code xb} (to {@code t[tb ..)}, {@code t[tb + L ..)}), called only with int offsets; a type may
         * dequantize each row once for both inputs (batched decode), with each row and input's operations in
         * {@link #lanes}'s order (same bits).
         */
        void lanes2x2(int rA, int rB, float[] x, int xa, int xb, float[] t, int ta, int tb) {
            lanes2(rA, rB, x, xa, t, ta);
            lanes2(rA, rB, x, xb, t, tb);
        }

        @Override
        public final float dot1(int row, float[] x, int xOff) {
            float[] t = Scratch.get().t(Vectors.L);
            lanes(row, x, xOff, t, 0);
            Vectors.laneSums(t, 1);
            return t[0];
        }

        @Override
        public final void dot4(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] res) {
            float[] t = Scratch.get().t(4 * Vectors.L);   // [4 rows, L lanes], then the 4 sums
            lanes4(r0, r1, r2, r3, x, xOff, t, 0);
            Vectors.laneSums4(t);
            System.arraycopy(t, 0, res, 0, 4);
        }

        @Override
        public final void dot4xN(int r0, int r1, int r2, int r3, float[] x, int base, int stride, int n, float[] res) {
            float[] t = Scratch.get().t(Vectors.laneSumSlots(4 * n) * Vectors.L);  // [n inputs, 4 rows, L lanes]
            int L = Vectors.L;
            int i = 0;
            for (; intOffsets && i + 1 < n; i += 2) {   // inputs two at a time: each row dequantized once for both
                int xa = base + i * stride;
                lanes2x2(r0, r1, x, xa, xa + stride, t, 4 * i * L, 4 * (i + 1) * L);
                lanes2x2(r2, r3, x, xa, xa + stride, t, (4 * i + 2) * L, (4 * (i + 1) + 2) * L);
            }
            for (; i < n; i++) {
                lanes4(r0, r1, r2, r3, x, base + i * stride, t, 4 * i * L);
            }
            Vectors.laneSums(t, 4 * n);
            System.arraycopy(t, 0, res, 0, 4 * n);
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

package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.kernel.Vectors;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

import static dev.rudder.runtime.tensor.NibbleBlocks.F;
import static dev.rudder.runtime.tensor.NibbleBlocks.L;
import static dev.rudder.runtime.tensor.NibbleBlocks.PARTS;
import static dev.rudder.runtime.tensor.NibbleBlocks.fifth;
import static dev.rudder.runtime.tensor.NibbleBlocks.high;
import static dev.rudder.runtime.tensor.NibbleBlocks.lookup;

/**
 * ggml's Q5_0: blocks of 32 weights, {@code {f16 d; uint8 qh[4]; uint8 qs[16]}} (22 bytes, 5.5 bits per weight); the
 * 5-bit value of weight j < 16 is {@code (qs[j] & 0xF) | bit j of qh << 4}, of weight j + 16 {@code (qs[j] >> 4) | bit
 * j + 16 of qh << 4} ({@code qh} a little-endian word); weight = {@code d * (value - 16)}.
 */
public final class Q5_0Matrix extends BlockMatrix {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 22;

    public Q5_0Matrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    Q5_0Matrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, BLOCK, BLOCK_BYTES, vector);
    }

    @Override
    public DType dtype() {
        return DType.Q5_0;
    }

    @Override
    void dequantize(long offset, float[] dst, int dOff, int n) {
        dequantize(data, offset, dst, dOff, n);
    }

    /** ggml's {@code dequantize_row_q5_0}. */
    static void dequantize(MemorySegment seg, long offset, float[] dst, int dOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float d = f16(seg, o);
            int qh = seg.get(INT_LE, o + 2);
            int base = dOff + b * BLOCK;
            for (int j = 0; j < BLOCK / 2; j++) {
                int q = Q4KMatrix.u8(seg, o + 6 + j);
                int x0 = ((q & 0xF) | (((qh >>> j) << 4) & 0x10)) - 16;
                int x1 = ((q >> 4) | ((qh >>> (j + 12)) & 0x10)) - 16;
                dst[base + j] = x0 * d;
                dst[base + j + BLOCK / 2] = x1 * d;
            }
        }
    }

    @Override
    RowKernel vectorKernel() {
        return new Vec(this);
    }

    /**
     * Fused dot: each nibble looked up as its float value q - 16 ({@link NibbleBlocks#lookup}), 16 added where the
     * fifth bit is set ({@code qh} as a lane mask), FMA with the activations, scaled per block; widening (matmul) by
     * the same values times d.
     */
    private static final class Vec extends BlockKernel {
        /** Entry q: the float q - 16 (the fifth bit adds 16). */
        static final NibbleBlocks.Table Q = NibbleBlocks.table(
                new float[] {-16, -15, -14, -13, -12, -11, -10, -9, -8, -7, -6, -5, -4, -3, -2, -1});
        /** {@link #Q}'s vector (16 lanes: the whole table; 8 lanes use the table's linear form instead). */
        static final IntVector TABLE = Q.a();

        Vec(Q5_0Matrix m) {
            super(m);
        }

        @Override
        void lanes(int row, float[] x, int xOff, float[] t, int tOff) {
            rows(row, row, row, row, 1, x, xOff, t, tOff);
        }

        /**
         * {@link #lanes} of rows rA and rB to {@code t[tOff ..)} and {@code t[tOff + L ..)}, two memory streams sharing
         * the activation loads, int offsets (matvec from DRAM +18% over {@link #rows}); 16k C2 nodes, inside the
         * inlining budget KernelInliningTest checks.
         */
        @Override
        void lanes2(int rA, int rB, float[] x, int xOff, float[] t, int tOff) {
            MemorySegment seg = m.data;
            int bA = (int) (rA * rowBytes), bB = (int) (rB * rowBytes);
            FloatVector aA = FloatVector.zero(F), aB = FloatVector.zero(F);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                int oA = bA + b * BLOCK_BYTES, oB = bB + b * BLOCK_BYTES;
                int xb = xOff + b * BLOCK;
                int hA = seg.get(INT_LE, oA + 2), hB = seg.get(INT_LE, oB + 2);
                FloatVector sA = FloatVector.zero(F), sB = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    IntVector iA = ints(seg, oA + 6 + p * L), iB = ints(seg, oB + 6 + p * L);
                    FloatVector xl = FloatVector.fromArray(F, x, xb + p * L);
                    FloatVector xh = FloatVector.fromArray(F, x, xb + 16 + p * L);
                    sA = lookup(iA, Q).add(16f, fifth(hA, 0, p)).fma(xl, sA);
                    sB = lookup(iB, Q).add(16f, fifth(hB, 0, p)).fma(xl, sB);
                    sA = lookup(high(iA), Q).add(16f, fifth(hA, 1, p)).fma(xh, sA);
                    sB = lookup(high(iB), Q).add(16f, fifth(hB, 1, p)).fma(xh, sB);
                }
                aA = sA.fma(FloatVector.broadcast(F, f16(seg, oA)), aA);
                aB = sB.fma(FloatVector.broadcast(F, f16(seg, oB)), aB);
            }
            aA.intoArray(t, tOff);
            aB.intoArray(t, tOff + L);
        }

        /**
         * {@link #lanes2} with two inputs: each row's 5-bit values built once for both (batched decode); per row and
         * input the operations of {@link #lanes} in its order. Vector API calls only in the loop.
         */
        @Override
        void lanes2x2(int rA, int rB, float[] x, int xa, int xb, float[] t, int ta, int tb) {
            MemorySegment seg = m.data;
            int bA = (int) (rA * rowBytes), bB = (int) (rB * rowBytes);
            FloatVector aAa = FloatVector.zero(F), aBa = FloatVector.zero(F);
            FloatVector aAb = FloatVector.zero(F), aBb = FloatVector.zero(F);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                int oA = bA + b * BLOCK_BYTES, oB = bB + b * BLOCK_BYTES;
                int xo = b * BLOCK;
                int hA = seg.get(INT_LE, oA + 2), hB = seg.get(INT_LE, oB + 2);
                FloatVector sAa = FloatVector.zero(F), sBa = FloatVector.zero(F);
                FloatVector sAb = FloatVector.zero(F), sBb = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    IntVector iA = (IntVector) ByteVector.fromMemorySegment(BYTES, seg, oA + 6 + p * L,
                            ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, Vectors.I, 0);
                    IntVector iB = (IntVector) ByteVector.fromMemorySegment(BYTES, seg, oB + 6 + p * L,
                            ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, Vectors.I, 0);
                    IntVector jA = iA.lanewise(VectorOperators.ASHR, 4), jB = iB.lanewise(VectorOperators.ASHR, 4);
                    FloatVector lA, hiA, lB, hiB;   // NibbleBlocks.lookup: q - 16
                    if (L == 16) {
                        lA = iA.selectFrom(TABLE).reinterpretAsFloats();
                        hiA = jA.selectFrom(TABLE).reinterpretAsFloats();
                        lB = iB.selectFrom(TABLE).reinterpretAsFloats();
                        hiB = jB.selectFrom(TABLE).reinterpretAsFloats();
                    } else {                        // the table's linear form
                        lA = (FloatVector) iA.and(0xF).add(-16).convert(VectorOperators.I2F, 0);
                        hiA = (FloatVector) jA.and(0xF).add(-16).convert(VectorOperators.I2F, 0);
                        lB = (FloatVector) iB.and(0xF).add(-16).convert(VectorOperators.I2F, 0);
                        hiB = (FloatVector) jB.and(0xF).add(-16).convert(VectorOperators.I2F, 0);
                    }
                    // NibbleBlocks.fifth: 16 added where the weight's fifth bit is set
                    lA = lA.add(16f, VectorMask.fromLong(F, (hA >>> (p * L)) & 0xFFFF));
                    hiA = hiA.add(16f, VectorMask.fromLong(F, (hA >>> (16 + p * L)) & 0xFFFF));
                    lB = lB.add(16f, VectorMask.fromLong(F, (hB >>> (p * L)) & 0xFFFF));
                    hiB = hiB.add(16f, VectorMask.fromLong(F, (hB >>> (16 + p * L)) & 0xFFFF));
                    FloatVector xl = FloatVector.fromArray(F, x, xa + xo + p * L);
                    FloatVector xh = FloatVector.fromArray(F, x, xa + xo + 16 + p * L);
                    sAa = hiA.fma(xh, lA.fma(xl, sAa));
                    sBa = hiB.fma(xh, lB.fma(xl, sBa));
                    xl = FloatVector.fromArray(F, x, xb + xo + p * L);
                    xh = FloatVector.fromArray(F, x, xb + xo + 16 + p * L);
                    sAb = hiA.fma(xh, lA.fma(xl, sAb));
                    sBb = hiB.fma(xh, lB.fma(xl, sBb));
                }
                FloatVector dA = FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT_LE, oA)));
                FloatVector dB = FloatVector.broadcast(F, Float.float16ToFloat(seg.get(SHORT_LE, oB)));
                aAa = sAa.fma(dA, aAa);
                aBa = sBa.fma(dB, aBa);
                aAb = sAb.fma(dA, aAb);
                aBb = sBb.fma(dB, aBb);
            }
            aAa.intoArray(t, ta);
            aBa.intoArray(t, ta + L);
            aAb.intoArray(t, tb);
            aBb.intoArray(t, tb + L);
        }

        /**
         * {@link #lanes} of the first {@code n} of r0..r3, one row after the other in one loop: a single copy of the
         * vector code, for rows past 2 GiB (long offsets) and single rows. (Four calls of a single-row method let C2
         * inline it four times into the caller, past its inlining node budget, where a widening left out of line
         * allocated its vectors.)
         */
        private void rows(int r0, int r1, int r2, int r3, int n, float[] x, int xOff, float[] t, int tOff) {
            MemorySegment seg = m.data;
            for (int k = 0; k < n; k++) {
                long base = (k == 0 ? r0 : k == 1 ? r1 : k == 2 ? r2 : r3) * rowBytes;
                FloatVector acc = FloatVector.zero(F);
                for (int b = 0; b < m.cols / BLOCK; b++) {
                    long o = base + (long) b * BLOCK_BYTES;
                    int xb = xOff + b * BLOCK;
                    int qh = seg.get(INT_LE, o + 2);
                    FloatVector s = FloatVector.zero(F);
                    for (int p = 0; p < PARTS; p++) {
                        IntVector i = ints(seg, o + 6 + (long) p * L);
                        FloatVector xl = FloatVector.fromArray(F, x, xb + p * L);
                        FloatVector xh = FloatVector.fromArray(F, x, xb + 16 + p * L);
                        s = lookup(i, Q).add(16f, fifth(qh, 0, p)).fma(xl, s);
                        s = lookup(high(i), Q).add(16f, fifth(qh, 1, p)).fma(xh, s);
                    }
                    acc = s.fma(FloatVector.broadcast(F, f16(seg, o)), acc);
                }
                acc.intoArray(t, tOff + k * L);
            }
        }

        /** The exact dequantization ({@code (value - 16) * d} as {@link Q5_0Matrix#dequantize}) in vectors. */
        @Override
        public void widen(int row, float[] dst, int off) {
            MemorySegment seg = m.data;
            long base = row * rowBytes;
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = base + (long) b * BLOCK_BYTES;
                int qh = seg.get(INT_LE, o + 2);
                FloatVector d = FloatVector.broadcast(F, f16(seg, o));
                int y = off + b * BLOCK;
                for (int p = 0; p < PARTS; p++) {
                    IntVector i = ints(seg, o + 6 + (long) p * L);
                    lookup(i, Q).add(16f, fifth(qh, 0, p)).mul(d).intoArray(dst, y + p * L);
                    lookup(high(i), Q).add(16f, fifth(qh, 1, p)).mul(d).intoArray(dst, y + 16 + p * L);
                }
            }
        }
    }
}

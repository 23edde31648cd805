package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;

import java.lang.foreign.MemorySegment;

import static dev.rudder.runtime.tensor.NibbleBlocks.F;
import static dev.rudder.runtime.tensor.NibbleBlocks.L;
import static dev.rudder.runtime.tensor.NibbleBlocks.PARTS;
import static dev.rudder.runtime.tensor.NibbleBlocks.fifth;
import static dev.rudder.runtime.tensor.NibbleBlocks.high;
import static dev.rudder.runtime.tensor.NibbleBlocks.lookup;

/**
 * ggml's Q5_1: blocks of 32 weights, {@code {f16 d; f16 m; uint8 qh[4]; uint8 qs[16]}} (24 bytes, 6 bits per weight);
 * 5-bit values as Q5_0's, weight = {@code d * value + m}.
 */
public final class Q5_1Matrix extends BlockMatrix {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 24;

    public Q5_1Matrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    Q5_1Matrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, BLOCK, BLOCK_BYTES, vector);
    }

    @Override
    public DType dtype() {
        return DType.Q5_1;
    }

    @Override
    void dequantize(long offset, float[] dst, int dOff, int n) {
        dequantize(data, offset, dst, dOff, n);
    }

    /** ggml's {@code dequantize_row_q5_1}. */
    static void dequantize(MemorySegment seg, long offset, float[] dst, int dOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float d = f16(seg, o);
            float m = f16(seg, o + 2);
            int qh = seg.get(INT_LE, o + 4);
            int base = dOff + b * BLOCK;
            for (int j = 0; j < BLOCK / 2; j++) {
                int q = Q4KMatrix.u8(seg, o + 8 + j);
                int x0 = (q & 0xF) | (((qh >>> j) << 4) & 0x10);
                int x1 = (q >> 4) | ((qh >>> (j + 12)) & 0x10);
                dst[base + j] = x0 * d + m;
                dst[base + j + BLOCK / 2] = x1 * d + m;
            }
        }
    }

    @Override
    RowKernel vectorKernel() {
        return new Vec(this);
    }

    /**
     * Fused dot: per block {@code d * sum(q*x) + m * sum(x)}, the 5-bit values built as Q5_0's kernel builds them;
     * widening (matmul) by the same values, {@code q * d + m} rounded as the scalar code.
     */
    private static final class Vec extends BlockKernel {
        /** Entry q: the float q (the fifth bit adds 16). */
        static final NibbleBlocks.Table Q =
                NibbleBlocks.table(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});

        Vec(Q5_1Matrix m) {
            super(m);
        }

        @Override
        void lanes(int row, float[] x, int xOff, float[] t, int tOff) {
            rows(row, row, row, row, 1, x, xOff, t, tOff);
        }

        /** {@link #lanes} of rows rA and rB to {@code t[tOff ..)} and {@code t[tOff + L ..)} (as Q5_0's). */
        @Override
        void lanes2(int rA, int rB, float[] x, int xOff, float[] t, int tOff) {
            MemorySegment seg = m.data;
            int bA = (int) (rA * rowBytes), bB = (int) (rB * rowBytes);
            FloatVector aA = FloatVector.zero(F), aB = FloatVector.zero(F);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                int oA = bA + b * BLOCK_BYTES, oB = bB + b * BLOCK_BYTES;
                int xb = xOff + b * BLOCK;
                int hA = seg.get(INT_LE, oA + 4), hB = seg.get(INT_LE, oB + 4);
                FloatVector sA = FloatVector.zero(F), sB = FloatVector.zero(F), sx = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    IntVector iA = ints(seg, oA + 8 + p * L), iB = ints(seg, oB + 8 + p * L);
                    FloatVector xl = FloatVector.fromArray(F, x, xb + p * L);
                    FloatVector xh = FloatVector.fromArray(F, x, xb + 16 + p * L);
                    sA = lookup(iA, Q).add(16f, fifth(hA, 0, p)).fma(xl, sA);
                    sB = lookup(iB, Q).add(16f, fifth(hB, 0, p)).fma(xl, sB);
                    sA = lookup(high(iA), Q).add(16f, fifth(hA, 1, p)).fma(xh, sA);
                    sB = lookup(high(iB), Q).add(16f, fifth(hB, 1, p)).fma(xh, sB);
                    sx = sx.add(xl).add(xh);
                }
                aA = sA.fma(FloatVector.broadcast(F, f16(seg, oA)), aA);
                aA = sx.fma(FloatVector.broadcast(F, f16(seg, oA + 2)), aA);
                aB = sB.fma(FloatVector.broadcast(F, f16(seg, oB)), aB);
                aB = sx.fma(FloatVector.broadcast(F, f16(seg, oB + 2)), aB);
            }
            aA.intoArray(t, tOff);
            aB.intoArray(t, tOff + L);
        }

        /** {@link #lanes} of the first {@code n} of r0..r3, one row after the other: rows past 2 GiB, single rows. */
        private void rows(int r0, int r1, int r2, int r3, int n, float[] x, int xOff, float[] t, int tOff) {
            MemorySegment seg = m.data;
            for (int k = 0; k < n; k++) {
                long base = (k == 0 ? r0 : k == 1 ? r1 : k == 2 ? r2 : r3) * rowBytes;
                FloatVector acc = FloatVector.zero(F);
                for (int b = 0; b < m.cols / BLOCK; b++) {
                    long o = base + (long) b * BLOCK_BYTES;
                    int xb = xOff + b * BLOCK;
                    int qh = seg.get(INT_LE, o + 4);
                    FloatVector s = FloatVector.zero(F), sx = FloatVector.zero(F);
                    for (int p = 0; p < PARTS; p++) {
                        IntVector i = ints(seg, o + 8 + (long) p * L);
                        FloatVector xl = FloatVector.fromArray(F, x, xb + p * L);
                        FloatVector xh = FloatVector.fromArray(F, x, xb + 16 + p * L);
                        s = lookup(i, Q).add(16f, fifth(qh, 0, p)).fma(xl, s);
                        s = lookup(high(i), Q).add(16f, fifth(qh, 1, p)).fma(xh, s);
                        sx = sx.add(xl).add(xh);
                    }
                    acc = s.fma(FloatVector.broadcast(F, f16(seg, o)), acc);
                    acc = sx.fma(FloatVector.broadcast(F, f16(seg, o + 2)), acc);
                }
                acc.intoArray(t, tOff + k * L);
            }
        }

        /** The exact dequantization ({@code value * d + m}, two roundings as {@link Q5_1Matrix#dequantize}). */
        @Override
        public void widen(int row, float[] dst, int off) {
            MemorySegment seg = m.data;
            long base = row * rowBytes;
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = base + (long) b * BLOCK_BYTES;
                int qh = seg.get(INT_LE, o + 4);
                FloatVector d = FloatVector.broadcast(F, f16(seg, o));
                FloatVector mn = FloatVector.broadcast(F, f16(seg, o + 2));
                int y = off + b * BLOCK;
                for (int p = 0; p < PARTS; p++) {
                    IntVector i = ints(seg, o + 8 + (long) p * L);
                    lookup(i, Q).add(16f, fifth(qh, 0, p)).mul(d).add(mn).intoArray(dst, y + p * L);
                    lookup(high(i), Q).add(16f, fifth(qh, 1, p)).mul(d).add(mn).intoArray(dst, y + 16 + p * L);
                }
            }
        }
    }
}

package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import static dev.rudder.runtime.tensor.NibbleBlocks.F;
import static dev.rudder.runtime.tensor.NibbleBlocks.L;
import static dev.rudder.runtime.tensor.NibbleBlocks.PARTS;

/**
 * ggml's Q5_0: blocks of 32 weights, {@code {f16 d; uint8 qh[4]; uint8 qs[16]}} (22 bytes, 5.5 bits per weight); the
 * 5-bit value of weight j < 16 is {@code (qs[j] & 0xF) | bit j of qh << 4}, of weight j + 16 {@code (qs[j] >> 4) | bit
 * j + 16 of qh << 4} ({@code qh} a little-endian word); weight = {@code d * (value - 16)}.
 */
public final class Q5_0Matrix extends BlockMatrix {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 22;
    static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

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
     * Fused dot: nibbles with their fifth bit (selected from {@code qh} by a byte shuffle and a bit test) minus 16,
     * widened to float lanes, FMA with the activations, scaled per block; widening (matmul) by the scalar
     * dequantization.
     */
    private static final class Vec extends BlockKernel {
        Vec(Q5_0Matrix m) {
            super(m);
        }

        /** Two pairs of rows, as Q4_0's kernel (four rows in one method inline past C2's budget). */
        @Override
        void lanes4(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] t, int tOff) {
            lanes2(r0, r1, x, xOff, t, tOff);
            lanes2(r2, r3, x, xOff, t, tOff + 2 * L);
        }

        /** {@link #lanes} of rows rA and rB (same operations per row) to {@code t[tOff ..)} and {@code t[tOff + L ..)}. */
        private void lanes2(int rA, int rB, float[] x, int xOff, float[] t, int tOff) {
            MemorySegment seg = m.data;
            long bA = rA * rowBytes, bB = rB * rowBytes;
            FloatVector aA = FloatVector.zero(F), aB = FloatVector.zero(F);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = (long) b * BLOCK_BYTES;
                int xb = xOff + b * BLOCK;
                // qh in lanes 0..3 (the load runs on into qs, which the shuffles do not read)
                ByteVector hA = NibbleBlocks.load(seg, bA + o + 2), hB = NibbleBlocks.load(seg, bB + o + 2);
                ByteVector qA = NibbleBlocks.load(seg, bA + o + 6), qB = NibbleBlocks.load(seg, bB + o + 6);
                ByteVector loA = NibbleBlocks.low5(qA, hA).sub((byte) 16);
                ByteVector hiA = NibbleBlocks.high5(qA, hA).sub((byte) 16);
                ByteVector loB = NibbleBlocks.low5(qB, hB).sub((byte) 16);
                ByteVector hiB = NibbleBlocks.high5(qB, hB).sub((byte) 16);
                FloatVector sA = FloatVector.zero(F), sB = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    FloatVector xl = FloatVector.fromArray(F, x, xb + p * L);
                    FloatVector xh = FloatVector.fromArray(F, x, xb + 16 + p * L);
                    sA = NibbleBlocks.widen(loA, p).fma(xl, sA);
                    sA = NibbleBlocks.widen(hiA, p).fma(xh, sA);
                    sB = NibbleBlocks.widen(loB, p).fma(xl, sB);
                    sB = NibbleBlocks.widen(hiB, p).fma(xh, sB);
                }
                aA = sA.fma(FloatVector.broadcast(F, f16(seg, bA + o)), aA);
                aB = sB.fma(FloatVector.broadcast(F, f16(seg, bB + o)), aB);
            }
            aA.intoArray(t, tOff);
            aB.intoArray(t, tOff + L);
        }

        @Override
        void lanes(int row, float[] x, int xOff, float[] t, int tOff) {
            MemorySegment seg = m.data;
            long base = row * rowBytes;
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = base + (long) b * BLOCK_BYTES;
                int xb = xOff + b * BLOCK;
                ByteVector h = NibbleBlocks.load(seg, o + 2);
                ByteVector q = NibbleBlocks.load(seg, o + 6);
                ByteVector lo = NibbleBlocks.low5(q, h).sub((byte) 16);
                ByteVector hi = NibbleBlocks.high5(q, h).sub((byte) 16);
                FloatVector s = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    s = NibbleBlocks.widen(lo, p).fma(FloatVector.fromArray(F, x, xb + p * L), s);
                    s = NibbleBlocks.widen(hi, p).fma(FloatVector.fromArray(F, x, xb + 16 + p * L), s);
                }
                acc = s.fma(FloatVector.broadcast(F, f16(seg, o)), acc);
            }
            acc.intoArray(t, tOff);
        }
    }
}

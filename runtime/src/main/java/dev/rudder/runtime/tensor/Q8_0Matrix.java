package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.kernel.Vectors;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * ggml's Q8_0: blocks of 32 weights, {@code {f16 d; int8 qs[32]}} (34 bytes, 8.5 bits per weight); weight =
 * {@code d * qs[j]}.
 */
public final class Q8_0Matrix extends BlockMatrix {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 34;

    public Q8_0Matrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    Q8_0Matrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, BLOCK, BLOCK_BYTES, vector);
    }

    @Override
    public DType dtype() {
        return DType.Q8_0;
    }

    @Override
    void dequantize(long offset, float[] dst, int dOff, int n) {
        dequantize(data, offset, dst, dOff, n);
    }

    /** ggml's {@code dequantize_row_q8_0}. */
    static void dequantize(MemorySegment seg, long offset, float[] dst, int dOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float d = f16(seg, o);
            int base = dOff + b * BLOCK;
            for (int j = 0; j < BLOCK; j++) {
                dst[base + j] = seg.get(ValueLayout.JAVA_BYTE, o + 2 + j) * d;
            }
        }
    }

    @Override
    RowKernel vectorKernel() {
        return new Vec(this);
    }

    /** Fused int8 -> float FMA over the blocks of a row; widening (matmul) by the same dequantization in vectors. */
    private static final class Vec extends BlockKernel {
        static final VectorSpecies<Float> F = Vectors.F;
        static final int L = Vectors.L;
        /** Bytes loaded per float vector: L int8 weights. */
        static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
        static final int PARTS = BLOCK / L;

        Vec(Q8_0Matrix m) {
            super(m);
        }

        /** {@link #lanes} of rows rA and rB to {@code t[tOff ..)} and {@code t[tOff + L ..)}. */
        @Override
        void lanes2(int rA, int rB, float[] x, int xOff, float[] t, int tOff) {
            // each row as its own slice, offsets from its start: C2 then drops the per-load bounds arithmetic that
            // offsets into the whole matrix kept (matvec [2048, 2048] ~20% faster in a harness, in cache and not)
            MemorySegment segA = rowSegment(rA), segB = rowSegment(rB);
            FloatVector aA = FloatVector.zero(F), aB = FloatVector.zero(F);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = (long) b * BLOCK_BYTES;
                int xb = xOff + b * BLOCK;
                FloatVector sA = FloatVector.zero(F), sB = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    FloatVector xp = FloatVector.fromArray(F, x, xb + p * L);
                    sA = ((FloatVector) ByteVector.fromMemorySegment(B, segA, o + 2 + p * L, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2F, F, 0)).fma(xp, sA);
                    sB = ((FloatVector) ByteVector.fromMemorySegment(B, segB, o + 2 + p * L, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2F, F, 0)).fma(xp, sB);
                }
                aA = sA.fma(FloatVector.broadcast(F, f16(segA, o)), aA);
                aB = sB.fma(FloatVector.broadcast(F, f16(segB, o)), aB);
            }
            aA.intoArray(t, tOff);
            aB.intoArray(t, tOff + L);
        }

        /** {@link #lanes2} with two inputs: each row's bytes widened once for both (batched decode), same order. */
        @Override
        void lanes2x2(int rA, int rB, float[] x, int xa, int xb, float[] t, int ta, int tb) {
            MemorySegment segA = rowSegment(rA), segB = rowSegment(rB);
            FloatVector aAa = FloatVector.zero(F), aBa = FloatVector.zero(F);
            FloatVector aAb = FloatVector.zero(F), aBb = FloatVector.zero(F);
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = (long) b * BLOCK_BYTES;
                int xo = b * BLOCK;
                FloatVector sAa = FloatVector.zero(F), sBa = FloatVector.zero(F);
                FloatVector sAb = FloatVector.zero(F), sBb = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    FloatVector wA = (FloatVector) ByteVector.fromMemorySegment(B, segA, o + 2 + p * L,
                            ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, F, 0);
                    FloatVector wB = (FloatVector) ByteVector.fromMemorySegment(B, segB, o + 2 + p * L,
                            ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, F, 0);
                    FloatVector xp = FloatVector.fromArray(F, x, xa + xo + p * L);
                    sAa = wA.fma(xp, sAa);
                    sBa = wB.fma(xp, sBa);
                    xp = FloatVector.fromArray(F, x, xb + xo + p * L);
                    sAb = wA.fma(xp, sAb);
                    sBb = wB.fma(xp, sBb);
                }
                FloatVector dA = FloatVector.broadcast(F, Float.float16ToFloat(segA.get(SHORT_LE, o)));
                FloatVector dB = FloatVector.broadcast(F, Float.float16ToFloat(segB.get(SHORT_LE, o)));
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

        /** The exact dequantization (as {@link Q8_0Matrix#dequantize}: {@code q * d} is exact in float) in vectors. */
        @Override
        public void widen(int row, float[] dst, int off) {
            MemorySegment seg = m.data;
            long base = row * rowBytes;
            for (int b = 0; b < m.cols / BLOCK; b++) {
                long o = base + (long) b * BLOCK_BYTES;
                FloatVector d = FloatVector.broadcast(F, f16(seg, o));
                int y = off + b * BLOCK;
                for (int p = 0; p < PARTS; p++) {
                    ((FloatVector) ByteVector.fromMemorySegment(B, seg, o + 2 + (long) p * L, ByteOrder.LITTLE_ENDIAN)
                            .convertShape(VectorOperators.B2F, F, 0)).mul(d).intoArray(dst, y + p * L);
                }
            }
        }

        @Override
        void lanes(int row, float[] x, int xOff, float[] t, int tOff) {
            MemorySegment seg = m.data;
            long base = row * rowBytes;
            int cols = m.cols;
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < cols / BLOCK; b++) {
                long o = base + (long) b * BLOCK_BYTES;
                FloatVector d = FloatVector.broadcast(F, f16(seg, o));
                int xb = xOff + b * BLOCK;
                FloatVector s = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    FloatVector w = (FloatVector) ByteVector.fromMemorySegment(B, seg, o + 2 + (long) p * L,
                            ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2F, F, 0);
                    s = w.fma(FloatVector.fromArray(F, x, xb + p * L), s);
                }
                acc = s.fma(d, acc);
            }
            acc.intoArray(t, tOff);
        }
    }
}

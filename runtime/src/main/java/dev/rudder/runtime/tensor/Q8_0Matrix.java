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

    /** Fused int8 -> float FMA over the blocks of a row; widening (matmul) by the scalar dequantization. */
    private static final class Vec implements RowKernel {
        static final VectorSpecies<Float> F = Vectors.F;
        static final int L = Vectors.L;
        /** Bytes loaded per float vector: L int8 weights. */
        static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.forBitSize(Math.max(64, L * 8)));
        static final int PARTS = BLOCK / L;

        private final Q8_0Matrix m;
        private final long rowBytes;

        Vec(Q8_0Matrix m) {
            this.m = m;
            this.rowBytes = m.rowBytes();
        }

        /**
         * Four rows as four memory streams sharing the activation loads; per row the same operations in the same
         * order as {@link #dot1}.
         */
        @Override
        public void dot4(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] res) {
            MemorySegment seg = m.data;
            long b0 = r0 * rowBytes, b1 = r1 * rowBytes, b2 = r2 * rowBytes, b3 = r3 * rowBytes;
            int blocks = m.cols / BLOCK;
            FloatVector a0 = FloatVector.zero(F), a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F), a3 = FloatVector.zero(F);
            for (int b = 0; b < blocks; b++) {
                long o = (long) b * BLOCK_BYTES;
                int xb = xOff + b * BLOCK;
                FloatVector s0 = FloatVector.zero(F), s1 = FloatVector.zero(F);
                FloatVector s2 = FloatVector.zero(F), s3 = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    FloatVector xv = FloatVector.fromArray(F, x, xb + p * L);
                    long q = o + 2 + (long) p * L;
                    s0 = weights(seg, b0 + q).fma(xv, s0);
                    s1 = weights(seg, b1 + q).fma(xv, s1);
                    s2 = weights(seg, b2 + q).fma(xv, s2);
                    s3 = weights(seg, b3 + q).fma(xv, s3);
                }
                a0 = s0.fma(FloatVector.broadcast(F, f16(seg, b0 + o)), a0);
                a1 = s1.fma(FloatVector.broadcast(F, f16(seg, b1 + o)), a1);
                a2 = s2.fma(FloatVector.broadcast(F, f16(seg, b2 + o)), a2);
                a3 = s3.fma(FloatVector.broadcast(F, f16(seg, b3 + o)), a3);
            }
            float[] lanes = Scratch.get().t(L);
            a0.intoArray(lanes, 0);
            res[0] = Vectors.sumLanes(lanes, 0);
            a1.intoArray(lanes, 0);
            res[1] = Vectors.sumLanes(lanes, 0);
            a2.intoArray(lanes, 0);
            res[2] = Vectors.sumLanes(lanes, 0);
            a3.intoArray(lanes, 0);
            res[3] = Vectors.sumLanes(lanes, 0);
        }

        /** L int8 weights at byte {@code offset}, widened to float lanes. */
        private static FloatVector weights(MemorySegment seg, long offset) {
            return (FloatVector) ByteVector.fromMemorySegment(B, seg, offset, ByteOrder.LITTLE_ENDIAN)
                    .convertShape(VectorOperators.B2F, F, 0);
        }

        @Override
        public void widen(int row, float[] dst, int off) {
            m.rowToFloats(row, dst, off);
        }

        @Override
        public float dot1(int row, float[] x, int xOff) {
            MemorySegment seg = m.data;
            long base = row * rowBytes;
            int cols = m.cols;
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < cols / BLOCK; b++) {
                long o = base + (long) b * BLOCK_BYTES;
                int xb = xOff + b * BLOCK;
                FloatVector s = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    s = weights(seg, o + 2 + (long) p * L).fma(FloatVector.fromArray(F, x, xb + p * L), s);
                }
                acc = s.fma(FloatVector.broadcast(F, f16(seg, o)), acc);
            }
            float[] lanes = Scratch.get().t(L);
            acc.intoArray(lanes, 0);
            return Vectors.sumLanes(lanes, 0);
        }
    }
}

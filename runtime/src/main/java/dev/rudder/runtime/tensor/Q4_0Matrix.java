package dev.rudder.runtime.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * ggml's Q4_0: blocks of 32 weights, {@code {f16 d; uint8 qs[16]}} (18 bytes, 4.5 bits per weight); weight j < 16 is
 * {@code d * ((qs[j] & 0xF) - 8)}, weight j + 16 is {@code d * ((qs[j] >> 4) - 8)}.
 */
public final class Q4_0Matrix extends BlockMatrix {
    public static final int BLOCK = 32;
    public static final int BLOCK_BYTES = 18;

    public Q4_0Matrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    Q4_0Matrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, BLOCK, BLOCK_BYTES, vector);
    }

    @Override
    public String dtype() {
        return "Q4_0";
    }

    @Override
    void dequantize(long offset, float[] dst, int dOff, int n) {
        dequantize(data, offset, dst, dOff, n);
    }

    /** ggml's {@code dequantize_row_q4_0}. */
    static void dequantize(MemorySegment seg, long offset, float[] dst, int dOff, int n) {
        for (int b = 0; b < n / BLOCK; b++) {
            long o = offset + (long) b * BLOCK_BYTES;
            float d = f16(seg, o);
            int base = dOff + b * BLOCK;
            for (int j = 0; j < BLOCK / 2; j++) {
                int q = seg.get(ValueLayout.JAVA_BYTE, o + 2 + j) & 0xFF;
                dst[base + j] = ((q & 0xF) - 8) * d;
                dst[base + j + BLOCK / 2] = ((q >> 4) - 8) * d;
            }
        }
    }

    @Override
    float dotVector(int r, float[] x, int xOff, float[] lanes) {
        return Vec.dot(data, r * rowBytes, cols, x, xOff, lanes);
    }

    private static final class Vec {
        static final VectorSpecies<Float> F = VecOps.F;
        static final int L = VecOps.L;
        /** The 16 packed bytes of a block (one 128-bit vector). */
        static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
        /** Float vectors per 16 weights. */
        static final int PARTS = 16 / L;

        static float dot(MemorySegment seg, long base, int cols, float[] x, int xOff, float[] lanes) {
            FloatVector acc = FloatVector.zero(F);
            for (int b = 0; b < cols / BLOCK; b++) {
                long o = base + (long) b * BLOCK_BYTES;
                ByteVector q = ByteVector.fromMemorySegment(B, seg, o + 2, ByteOrder.LITTLE_ENDIAN);
                ByteVector lo = q.and((byte) 0xF).sub((byte) 8);
                ByteVector hi = q.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF).sub((byte) 8);
                int xb = xOff + b * BLOCK;
                FloatVector s = FloatVector.zero(F);
                for (int p = 0; p < PARTS; p++) {
                    FloatVector wl = (FloatVector) lo.convertShape(VectorOperators.B2F, F, p);
                    FloatVector wh = (FloatVector) hi.convertShape(VectorOperators.B2F, F, p);
                    s = wl.fma(FloatVector.fromArray(F, x, xb + p * L), s);
                    s = wh.fma(FloatVector.fromArray(F, x, xb + 16 + p * L), s);
                }
                acc = s.fma(FloatVector.broadcast(F, f16(seg, o)), acc);
            }
            acc.intoArray(lanes, 0);
            return VecOps.sumLanes(lanes, 0);
        }
    }
}

package dev.rudder.runtime.tensor;

import dev.rudder.runtime.kernel.Vectors;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * The eight 6-bit scales and mins of a Q4_K/Q5_K super-block (ggml's {@code get_scale_min_k4}) from its 12 packed
 * scale bytes: {@link #table} decodes all sixteen in vectors and multiplies them by d and -dmin, once per
 * super-block, for kernels whose loops then only read a float per sub-block. Decoded one by one in scalar code
 * per sub-block (as these kernels did before), each value cost as many instructions as the dot product of 16
 * weights.
 */
final class KScales {
    private static final VectorSpecies<Byte> BYTES = VectorSpecies.of(byte.class, VectorShape.forBitSize(Vectors.L * 8));
    private static final int L = Vectors.L;
    /*
     * Output lane k of the table: k < 8 scale k, k >= 8 min k - 8. Value = ((byte[P] >>> S) & M) | ((byte[Q] >>> 2) & N)
     * over the 12 scale bytes: scale j < 4 = b[j] & 63; min j < 4 = b[j+4] & 63; scale j >= 4 =
     * (b[j+4] & 0xF) | (b[j-4] >> 6) << 4; min j >= 4 = (b[j+4] >> 4) | (b[j] >> 6) << 4.
     */
    private static final int[] P = {0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11};
    private static final int[] S = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4};
    private static final int[] M = {63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 15, 15, 15, 15};
    private static final int[] Q = {0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 4, 5, 6, 7};
    private static final int[] N = {0, 0, 0, 0, 0x30, 0x30, 0x30, 0x30, 0, 0, 0, 0, 0x30, 0x30, 0x30, 0x30};
    /** Lanes that take -dmin rather than d, per vector of the table. */
    private static final boolean[] MIN_LANES = {false, false, false, false, false, false, false, false,
            true, true, true, true, true, true, true, true};

    private KScales() {
    }

    /**
     * {@code s[sOff .. sOff + 16)} = {@code [d * scale j for j < 8, -dmin * min j for j < 8]} of the super-block at byte
     * {@code o} ({@code f16 d, f16 dmin, uint8 scales[12]}; reads 2L bytes from {@code o + 4}, inside any Q4_K/Q5_K
     * block), each product rounded once, as ggml's dequantization rounds it. Takes and returns no vectors: left
     * a call by C2, it costs a call, not an allocation.
     */
    static void table(MemorySegment seg, long o, float d, float negMin, float[] s, int sOff) {
        IntVector lo = (IntVector) ByteVector.fromMemorySegment(BYTES, seg, o + 4, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2I, Vectors.I, 0);
        IntVector hi = (IntVector) ByteVector.fromMemorySegment(BYTES, seg, o + 4 + L, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.B2I, Vectors.I, 0);
        for (int k = 0; k < 16; k += L) {
            IntVector p = IntVector.fromArray(Vectors.I, P, k).selectFrom(lo, hi)
                    .lanewise(VectorOperators.LSHR, IntVector.fromArray(Vectors.I, S, k))
                    .and(IntVector.fromArray(Vectors.I, M, k));
            IntVector q = IntVector.fromArray(Vectors.I, Q, k).selectFrom(lo, hi)
                    .lanewise(VectorOperators.LSHR, 2).and(IntVector.fromArray(Vectors.I, N, k));
            FloatVector dm = FloatVector.broadcast(Vectors.F, d)
                    .blend(negMin, VectorMask.fromArray(Vectors.F, MIN_LANES, k));
            ((FloatVector) p.or(q).convert(VectorOperators.I2F, 0)).mul(dm).intoArray(s, sOff + k);
        }
    }
}

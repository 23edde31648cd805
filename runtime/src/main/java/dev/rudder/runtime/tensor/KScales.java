package dev.rudder.runtime.tensor;

import dev.rudder.runtime.kernel.Vectors;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * The eight 6-bit scales and mins of a Q4_K/Q5_K super-block (ggml's {@code get_scale_min_k4} on its 12 packed
 * bytes) decoded in int lanes, for the vector kernels: one lane per value, each taking its bits from one or two of
 * the three 32-bit words by a per-lane shift and mask. Decoding them one by one in scalar code cost as much as the
 * dot product itself. Vector path only.
 */
final class KScales {
    /** Floats {@link #decode} writes: {@code [8 scales, 8 mins]}. */
    static final int SIZE = 16;

    private static final VectorSpecies<Float> F = Vectors.F;
    private static final VectorSpecies<Integer> I = Vectors.I;
    private static final int L = Vectors.L;
    /** Vectors per {@link #SIZE} values (1 on AVX-512, 2 on AVX2). */
    private static final int PARTS = SIZE / L;

    // per part: value = ((A >>> SHIFT_A) & MASK_A) | (((B >>> SHIFT_B) & MASK_B) << 4), A and B chosen among the words
    private static final IntVector[] SHIFT_A = new IntVector[PARTS];
    private static final IntVector[] MASK_A = new IntVector[PARTS];
    private static final IntVector[] SHIFT_B = new IntVector[PARTS];
    private static final IntVector[] MASK_B = new IntVector[PARTS];
    /** Lanes whose A is word 1 / word 2 (else word 0), and whose B is word 1 (else word 0). */
    private static final VectorMask<Integer>[] A_WORD1 = masks(PARTS);
    private static final VectorMask<Integer>[] A_WORD2 = masks(PARTS);
    private static final VectorMask<Integer>[] B_WORD1 = masks(PARTS);
    /** Lanes that hold mins (multiplied by {@code -dmin} instead of {@code d}). */
    private static final VectorMask<Float>[] MINS = masks(PARTS);

    static {
        for (int p = 0; p < PARTS; p++) {
            int[] shiftA = new int[L], maskA = new int[L], shiftB = new int[L], maskB = new int[L];
            boolean[] aWord1 = new boolean[L], aWord2 = new boolean[L], bWord1 = new boolean[L], mins = new boolean[L];
            for (int i = 0; i < L; i++) {
                int v = p * L + i;        // 0..7 scales, 8..15 mins
                boolean min = v >= 8;
                int j = v & 7;
                int k = j & 3;            // byte within a word
                mins[i] = min;
                if (j < 4) {              // scale: bytes 0..3 & 63; min: bytes 4..7 & 63
                    shiftA[i] = 8 * k;
                    maskA[i] = 63;
                    aWord1[i] = min;
                } else {                  // low 4 bits from bytes 8..11 (scale low, min high nibble), top 2 from bit 6..7
                    shiftA[i] = 8 * k + (min ? 4 : 0);
                    maskA[i] = 0xF;
                    aWord2[i] = true;
                    shiftB[i] = 8 * k + 6;
                    maskB[i] = 3;
                    bWord1[i] = min;
                }
            }
            SHIFT_A[p] = IntVector.fromArray(I, shiftA, 0);
            MASK_A[p] = IntVector.fromArray(I, maskA, 0);
            SHIFT_B[p] = IntVector.fromArray(I, shiftB, 0);
            MASK_B[p] = IntVector.fromArray(I, maskB, 0);
            A_WORD1[p] = VectorMask.fromArray(I, aWord1, 0);
            A_WORD2[p] = VectorMask.fromArray(I, aWord2, 0);
            B_WORD1[p] = VectorMask.fromArray(I, bWord1, 0);
            MINS[p] = VectorMask.fromArray(F, mins, 0);
        }
    }

    private KScales() {
    }

    @SuppressWarnings("unchecked")
    private static <E> VectorMask<E>[] masks(int n) {
        return (VectorMask<E>[]) new VectorMask<?>[n];
    }

    /**
     * {@code dst[off + j] = d * scale_j} and {@code dst[off + 8 + j] = -(dmin * min_j)} for the super-block at byte
     * {@code o} ({@code f16 d, f16 dmin, 12 bytes}), bit for bit what the scalar code computes.
     */
    static void decode(MemorySegment seg, long o, float[] dst, int off) {
        IntVector w0 = IntVector.broadcast(I, seg.get(BlockMatrix.INT_LE, o + 4));
        IntVector w1 = IntVector.broadcast(I, seg.get(BlockMatrix.INT_LE, o + 8));
        IntVector w2 = IntVector.broadcast(I, seg.get(BlockMatrix.INT_LE, o + 12));
        FloatVector d = FloatVector.broadcast(F, BlockMatrix.f16(seg, o));
        float negMin = -BlockMatrix.f16(seg, o + 2);
        for (int p = 0; p < PARTS; p++) {
            IntVector a = w0.blend(w1, A_WORD1[p]).blend(w2, A_WORD2[p]);
            IntVector b = w0.blend(w1, B_WORD1[p]);
            IntVector q = a.lanewise(VectorOperators.LSHR, SHIFT_A[p]).and(MASK_A[p])
                    .or(b.lanewise(VectorOperators.LSHR, SHIFT_B[p]).and(MASK_B[p]).lanewise(VectorOperators.LSHL, 4));
            ((FloatVector) q.convert(VectorOperators.I2F, 0)).mul(d.blend(negMin, MINS[p])).intoArray(dst, off + p * L);
        }
    }
}

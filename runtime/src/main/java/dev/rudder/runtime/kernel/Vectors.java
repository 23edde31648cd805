package dev.rudder.runtime.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one home of Vector API basics: the species every kernel uses, lane sums in a fixed order,
 * and a float dot product. Only loaded when the Vector API path is in use (see
 * {@link VectorSupport#useVector()}, the scalar-or-vector choice made once).
 *
 * <p>Why fixed-order lane sums: {@code reduceLanes(ADD)} may add in any order, and HotSpot's
 * intrinsic and its Java fallback do differ, so the same computation gives different float
 * results before and after JIT compilation. The halving sums here are exact IEEE arithmetic on
 * both paths: results are reproducible, which "no plan = plain model, bit for bit" needs.
 */
public final class Vectors {
    /** The preferred float species of this machine (8 lanes on AVX2, 16 on AVX-512). */
    public static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Int lanes of the same width (bf16 pairs are loaded as ints). */
    public static final VectorSpecies<Integer> I = F.withLanes(int.class);
    /** Lanes per float vector. */
    public static final int L = F.length();
    /** {@link LaneTree}'s permute indexes for {@link #F}. */
    private static final int[] TREE = LaneTree.indexes(L);
    /** Levels of the lane-sum tree: log2(L). */
    private static final int LEVELS = Integer.numberOfTrailingZeros(L);

    private Vectors() {
    }

    /**
     * Sum of {@code t[off .. off+L)} by halving (lane i += lane i+h for h = L/2, L/4, ..., 1): the
     * reference order; kernels run it for many accumulators at once with {@link #laneSums}.
     * Works on an array so no vector crosses a call boundary (a vector argument of a method C2
     * does not inline gets boxed, i.e. allocated, on every call). Overwrites the lanes.
     */
    public static float sumLanes(float[] t, int off) {
        for (int h = L >> 1; h >= 1; h >>= 1) {
            for (int i = 0; i < h; i++) {
                t[off + i] += t[off + i + h];
            }
        }
        return t[off];
    }

    /**
     * The lane sums of {@code n} accumulators at once: on entry {@code t[k*L .. (k+1)*L)} holds accumulator k,
     * on return {@code t[k]} its sum, each bit-identical to {@link #sumLanes(float[], int)} of those lanes,
     * computed in vector registers ({@link LaneTree}). The tree runs on {@link #laneSumSlots}{@code (n)}
     * accumulators, so {@code t} must hold that many times L floats; all of them are overwritten (what the
     * slots past n hold does not matter).
     */
    public static void laneSums(float[] t, int n) {
        LaneTree.sum(F, I, TREE, t, laneSumSlots(n));
    }

    /**
     * {@link #laneSums}{@code (t, 4)} in registers: the four accumulators {@code t[0 .. 4L)} loaded once, levels 0
     * and 1 on the four together, the remaining levels on the one vector paired with itself (what
     * {@link LaneTree#sum} does for four), the sums written to {@code t[0 .. 4)}; bit-identical to it. Row kernels'
     * {@code dot4} end here (BF16's int-offset one runs the same tree on its accumulators in registers): the general
     * tree's loop and index loads cost single-stream decode of the 1B shape (2048 columns, BF16) a fifth of its
     * speed. Needs L >= 4 (every SIMD shape the Vector API prefers: SSE, NEON and wider).
     */
    public static void laneSums4(float[] t) {
        int[] tree = TREE;
        IntVector p = IntVector.fromArray(I, tree, 0), q = IntVector.fromArray(I, tree, L);
        IntVector u = FloatVector.fromArray(F, t, 0).reinterpretAsInts(), v = FloatVector.fromArray(F, t, L).reinterpretAsInts();
        IntVector ab = p.selectFrom(u, v).reinterpretAsFloats().add(q.selectFrom(u, v).reinterpretAsFloats()).reinterpretAsInts();
        u = FloatVector.fromArray(F, t, 2 * L).reinterpretAsInts();
        v = FloatVector.fromArray(F, t, 3 * L).reinterpretAsInts();
        IntVector cd = p.selectFrom(u, v).reinterpretAsFloats().add(q.selectFrom(u, v).reinterpretAsFloats()).reinterpretAsInts();
        p = IntVector.fromArray(I, tree, 2 * L);
        q = IntVector.fromArray(I, tree, 3 * L);
        FloatVector sums = p.selectFrom(ab, cd).reinterpretAsFloats().add(q.selectFrom(ab, cd).reinterpretAsFloats());
        for (int level = 2; level < LEVELS; level++) {
            p = IntVector.fromArray(I, tree, 2 * level * L);
            q = IntVector.fromArray(I, tree, (2 * level + 1) * L);
            u = sums.reinterpretAsInts();
            sums = p.selectFrom(u, u).reinterpretAsFloats().add(q.selectFrom(u, u).reinterpretAsFloats());
        }
        sums.intoArray(t, 0);
    }

    /**
     * The permute indexes of the lane-sum tree for {@link #F} ({@link LaneTree#indexes}: per level P then Q, L
     * ints each; an index below L picks lane U[index], else V[index - L]). Shared, not to be written.
     */
    public static int[] tree() {
        return TREE;
    }

    /** Accumulator slots {@link #laneSums} uses for n sums: n rounded up to a power of two. */
    public static int laneSumSlots(int n) {
        return n <= 1 ? 1 : Integer.highestOneBit(n - 1) << 1;
    }

    /** Largest lane; max does not depend on the order, so the hardware reduction is fine. */
    public static float max(FloatVector v) {
        return v.reduceLanes(VectorOperators.MAX);
    }

    /**
     * {@code sum(a[aOff+i] * b[bOff+i])} for i in [0, n): two accumulators over alternating
     * vectors, a fixed-order lane sum, then the scalar tail in order. {@code lanes}: scratch of at
     * least {@link #L} floats.
     */
    public static float dot(float[] a, int aOff, float[] b, int bOff, int n, float[] lanes) {
        dotLanes(a, aOff, b, bOff, n, lanes, 0);
        laneSums(lanes, 1);
        return dotTail(lanes[0], a, aOff, b, bOff, n);
    }

    /**
     * {@link #dot} up to its lane sum: the accumulator lanes stored to {@code t[tOff .. tOff+L)}, so that
     * several dots can share one {@link #laneSums} before their {@link #dotTail}s.
     */
    public static void dotLanes(float[] a, int aOff, float[] b, int bOff, int n, float[] t, int tOff) {
        int main = F.loopBound(n);
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = FloatVector.zero(F);
        int i = 0;
        for (; i + 2 * L <= main; i += 2 * L) {
            a0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), a0);
            a1 = FloatVector.fromArray(F, a, aOff + i + L).fma(FloatVector.fromArray(F, b, bOff + i + L), a1);
        }
        for (; i < main; i += L) {
            a0 = FloatVector.fromArray(F, a, aOff + i).fma(FloatVector.fromArray(F, b, bOff + i), a0);
        }
        a0.add(a1).intoArray(t, tOff);
    }

    /** The rest of {@link #dot}: its lane sum {@code s} plus the tail products past the vector loop, in order. */
    public static float dotTail(float s, float[] a, int aOff, float[] b, int bOff, int n) {
        for (int i = F.loopBound(n); i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }

    /**
     * bf16 bits in the low half of each int lane, widened to float (exact). The kernels write this and
     * {@link #bf16High} out in their loops rather than call them (see BF16Matrix).
     */
    public static FloatVector bf16Low(IntVector w) {
        return w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** bf16 bits in the high half of each int lane, widened to float (exact). */
    public static FloatVector bf16High(IntVector w) {
        return w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats();
    }
}

package dev.rudder.runtime.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fixed-order lane sum of {@link Vectors#sumLanes(float[], int)} for several accumulators at once, in
 * vector registers: the same halving tree (level h: {@code t[i] = t[i] + t[i+h]} for {@code i < h}, h = L/2
 * ... 1), each level run for several outputs with two-source lane permutes and one vertical add, so every
 * output sees exactly the scalar tree's additions in the same operand order (bit-identical) at about
 * {@code 3 log2(L)} vector operations per pair of vectors instead of {@code L - 1} scalar adds through memory
 * per output.
 *
 * <p>A level takes two vectors U and V that each hold g outputs' partial sums of width w (g*w = L lanes) and
 * makes one vector of 2g outputs of width w/2: {@code P} = the low halves of U's groups then of V's,
 * {@code Q} = the high halves, {@code P + Q}. E.g. L = 16, first level:
 * {@code P = [a0..a7 | b0..b7]}, {@code Q = [a8..a15 | b8..b15]}. After log2(L) levels each vector holds L
 * finished sums, in input order. A lone vector (fewer than L outputs left) is paired with itself.
 *
 * <p>Vectors live only inside one call, between loads and stores of the caller's array, so nothing is boxed
 * whether or not C2 inlines this into a kernel. Generic in the species so tests can run L = 8 and L = 16 on
 * one machine; the kernels call {@link Vectors#sumLanes(float[], int)} with the preferred one.
 */
final class LaneTree {
    private LaneTree() {
    }

    /**
     * The permute indexes for {@code lanes} lanes: {@code [levels, 2 (P, Q), lanes]}, level 0 the widest
     * (w = lanes). An index below {@code lanes} picks lane U[index], otherwise V[index - lanes].
     */
    static int[] indexes(int lanes) {
        if (Integer.bitCount(lanes) != 1 || lanes < 2) {
            throw new IllegalArgumentException("lanes must be a power of two >= 2: " + lanes);
        }
        int levels = Integer.numberOfTrailingZeros(lanes);
        int[] idx = new int[levels * 2 * lanes];
        for (int level = 0; level < levels; level++) {
            int w = lanes >> level;                   // group width before this level
            int half = w / 2;                         // and after it
            int g = lanes / w;                        // groups per source vector
            for (int lane = 0; lane < lanes; lane++) {
                int group = lane / half;              // output group: U's g groups, then V's
                int p = lane % half;
                int src = (group < g ? 0 : lanes) + (group % g) * w + p;
                idx[(2 * level) * lanes + lane] = src;
                idx[(2 * level + 1) * lanes + lane] = src + half;
            }
        }
        return idx;
    }

    /**
     * Lane sums of the {@code n} accumulators {@code t[k*L .. (k+1)*L)} (n a power of two), written to
     * {@code t[0 .. n)} in order; each bit-identical to the scalar halving sum of its lanes. Overwrites
     * {@code t[0 .. n*L)}. Levels go two at a time while there are four vectors or more (four loaded, one
     * stored), then one at a time; a last lone vector finishes in registers. Written out without helper
     * methods: a vector passed to a method C2 does not inline is boxed (seen when the sweeps were split off).
     */
    static void sum(VectorSpecies<Float> f, VectorSpecies<Integer> i, int[] idx, float[] t, int n) {
        int lanes = f.length();
        int levels = idx.length / (2 * lanes);
        int m = n;                                    // vectors left
        int level = 0;
        while (level < levels && m > 1) {
            IntVector p0 = IntVector.fromArray(i, idx, 2 * level * lanes);
            IntVector q0 = IntVector.fromArray(i, idx, (2 * level + 1) * lanes);
            if (m >= 4 && level + 1 < levels) {
                IntVector p1 = IntVector.fromArray(i, idx, (2 * level + 2) * lanes);
                IntVector q1 = IntVector.fromArray(i, idx, (2 * level + 3) * lanes);
                for (int j = 0; j < m >> 2; j++) {
                    int u = 4 * j * lanes;
                    IntVector a = FloatVector.fromArray(f, t, u).reinterpretAsInts();
                    IntVector b = FloatVector.fromArray(f, t, u + lanes).reinterpretAsInts();
                    IntVector c = FloatVector.fromArray(f, t, u + 2 * lanes).reinterpretAsInts();
                    IntVector d = FloatVector.fromArray(f, t, u + 3 * lanes).reinterpretAsInts();
                    // P + Q of the first level for (a, b) and (c, d), then of the second for the two results
                    IntVector ab = p0.selectFrom(a, b).reinterpretAsFloats()
                            .add(q0.selectFrom(a, b).reinterpretAsFloats()).reinterpretAsInts();
                    IntVector cd = p0.selectFrom(c, d).reinterpretAsFloats()
                            .add(q0.selectFrom(c, d).reinterpretAsFloats()).reinterpretAsInts();
                    p1.selectFrom(ab, cd).reinterpretAsFloats()
                            .add(q1.selectFrom(ab, cd).reinterpretAsFloats()).intoArray(t, j * lanes);
                }
                m >>= 2;
                level += 2;
            } else {
                for (int j = 0; j < m >> 1; j++) {
                    int u = 2 * j * lanes;
                    IntVector a = FloatVector.fromArray(f, t, u).reinterpretAsInts();
                    IntVector b = FloatVector.fromArray(f, t, u + lanes).reinterpretAsInts();
                    p0.selectFrom(a, b).reinterpretAsFloats()
                            .add(q0.selectFrom(a, b).reinterpretAsFloats()).intoArray(t, j * lanes);
                }
                m >>= 1;
                level++;
            }
        }
        if (level < levels) {
            // one vector with fewer than L sums: its remaining levels pair it with itself, in registers
            IntVector v = FloatVector.fromArray(f, t, 0).reinterpretAsInts();
            for (; level < levels; level++) {
                IntVector p = IntVector.fromArray(i, idx, 2 * level * lanes);
                IntVector q = IntVector.fromArray(i, idx, (2 * level + 1) * lanes);
                v = p.selectFrom(v, v).reinterpretAsFloats()
                        .add(q.selectFrom(v, v).reinterpretAsFloats()).reinterpretAsInts();
            }
            v.reinterpretAsFloats().intoArray(t, 0);
        }
    }
}

package dev.rudder.runtime.kernel;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LaneTreeTest {
    private static final VectorSpecies<Float> F128 = FloatVector.SPECIES_128;
    private static final VectorSpecies<Integer> I128 = IntVector.SPECIES_128;
    private static final int[] IDX128 = LaneTree.indexes(4);
    private static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I256 = IntVector.SPECIES_256;
    private static final int[] IDX256 = LaneTree.indexes(8);
    private static final VectorSpecies<Float> F512 = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I512 = IntVector.SPECIES_512;
    private static final int[] IDX512 = LaneTree.indexes(16);

    /** Called with constant species so that C2, once it compiles these, runs the intrinsic permutes. */
    private static void sum4(float[] t, int n) {
        LaneTree.sum(F128, I128, IDX128, t, n);
    }

    private static void sum8(float[] t, int n) {
        LaneTree.sum(F256, I256, IDX256, t, n);
    }

    private static void sum16(float[] t, int n) {
        LaneTree.sum(F512, I512, IDX512, t, n);
    }

    /** Mixed magnitudes and signs, signed zeros, subnormals, infinities, now and then a NaN. */
    private static float value(Random r) {
        int kind = r.nextInt(40);
        return switch (kind) {
            case 0 -> 0f;
            case 1 -> -0f;
            case 2 -> Float.MIN_VALUE * (1 + r.nextInt(1000)) * (r.nextBoolean() ? 1 : -1);   // subnormal
            case 3 -> Float.intBitsToFloat(r.nextInt(0x00800000)) * (r.nextBoolean() ? 1 : -1);
            case 4 -> r.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
            case 5 -> Float.NaN;
            case 6 -> Float.MAX_VALUE * (r.nextBoolean() ? 1 : -1);                             // overflows when added
            default -> (float) (r.nextGaussian() * Math.pow(10, r.nextInt(16) - 8));
        };
    }

    /** Expected: {@link Vectors#sumLanes}'s scalar halving tree, written out again over {@code lanes}. */
    private static float[] scalarSums(float[] t, int n, int lanes) {
        float[] out = new float[n];
        float[] one = new float[lanes];
        for (int k = 0; k < n; k++) {
            System.arraycopy(t, k * lanes, one, 0, lanes);
            for (int h = lanes / 2; h >= 1; h /= 2) {
                for (int i = 0; i < h; i++) {
                    one[i] = one[i] + one[i + h];
                }
            }
            out[k] = one[0];
        }
        return out;
    }

    private static void check(int lanes, int iterations, long seed) {
        Random r = new Random(seed);
        int[] sizes = {1, 2, 4, 8, 16, 32};
        for (int it = 0; it < iterations; it++) {
            int n = sizes[it % sizes.length];
            float[] t = new float[n * lanes + 3];
            // a third of the cases without specials: sums of ordinary numbers must match too, not just NaN == NaN
            boolean plain = it % 3 == 0;
            for (int j = 0; j < n * lanes; j++) {
                t[j] = plain ? (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4)) : value(r);
            }
            float[] expected = scalarSums(t, n, lanes);
            switch (lanes) {
                case 4 -> sum4(t, n);
                case 8 -> sum8(t, n);
                case 16 -> sum16(t, n);
                default -> throw new AssertionError(lanes);
            }
            for (int k = 0; k < n; k++) {
                assertEquals(Float.floatToIntBits(expected[k]), Float.floatToIntBits(t[k]),
                        "L = " + lanes + ", n = " + n + ", output " + k + ", iteration " + it);
            }
        }
    }

    @Test
    void fourSumsInRegistersMatchTheGeneralTreeBitForBit() {
        Random r = new Random(44);
        int lanes = Vectors.L;
        for (int it = 0; it < 60_000; it++) {
            float[] t = new float[4 * lanes];
            for (int j = 0; j < t.length; j++) {
                t[j] = it % 3 == 0 ? (float) r.nextGaussian() : value(r);
            }
            float[] expected = scalarSums(t, 4, lanes);
            Vectors.laneSums4(t);
            for (int k = 0; k < 4; k++) {
                assertEquals(Float.floatToIntBits(expected[k]), Float.floatToIntBits(t[k]), "output " + k + ", iteration " + it);
            }
        }
    }

    @Test
    void eightLanesMatchTheScalarHalvingSumBitForBit() {
        check(8, 60_000, 8);
    }

    @Test
    void sixteenLanesMatchTheScalarHalvingSumBitForBit() {
        check(16, 60_000, 16);
    }

    @Test
    void fourLanesMatchTheScalarHalvingSumBitForBit() {
        check(4, 20_000, 4);
    }

    @Test
    void preferredSpeciesMatchesSumLanes() {
        Random r = new Random(5);
        int lanes = Vectors.L;
        for (int it = 0; it < 60_000; it++) {
            int n = 1 << (it % 5);
            float[] t = new float[n * lanes];
            for (int j = 0; j < t.length; j++) {
                t[j] = value(r);
            }
            float[] expected = new float[n];
            float[] copy = t.clone();
            for (int k = 0; k < n; k++) {
                expected[k] = Vectors.sumLanes(copy, k * lanes);
            }
            Vectors.laneSums(t, n);
            for (int k = 0; k < n; k++) {
                assertEquals(Float.floatToIntBits(expected[k]), Float.floatToIntBits(t[k]), "n = " + n + ", output " + k);
            }
        }
    }

    @Test
    void indexesPairLowAndHighHalvesOfEachGroup() {
        // L = 4: level 0 takes U's and V's first two lanes (P) and last two (Q); level 1 pairs lanes 0/1 of each group
        assertArrayEquals(new int[]{0, 1, 4, 5, 2, 3, 6, 7, 0, 2, 4, 6, 1, 3, 5, 7}, LaneTree.indexes(4));
        assertThrows(IllegalArgumentException.class, () -> LaneTree.indexes(12));
    }
}

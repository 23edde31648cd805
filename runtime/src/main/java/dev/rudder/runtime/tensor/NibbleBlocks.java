package dev.rudder.runtime.tensor;

import dev.rudder.runtime.kernel.Vectors;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * What the ggml blocks of 32 weights with 16 nibble bytes ({@code qs[j]}: weight j in the low nibble, weight j + 16 in
 * the high one) share on the vector path: Q4_1, Q5_0, Q5_1, IQ4_NL and IQ4_XS (per 32-weight sub-block). As Q4_0's kernel: the bytes of a part (L
 * weights, {@code BlockKernel.ints}) are sign-extended to int lanes and each nibble becomes its float weight by one
 * lookup across lanes in a 16-entry table (AVX-512; with 8 lanes the table is two vectors). Q4_0 and Q4_K use the
 * same lookup.
 * Small static methods so that C2 inlines them into each type's row loop (vectors passed to a method that is not
 * inlined get boxed). Only loaded by the vector kernels (the scalar path must run without the Vector API module).
 */
final class NibbleBlocks {
    static final int BLOCK = 32;
    static final VectorSpecies<Float> F = Vectors.F;
    static final VectorSpecies<Integer> I = Vectors.I;
    static final int L = Vectors.L;
    /** Float vectors per 16 weights. */
    static final int PARTS = 16 / L;

    private NibbleBlocks() {
    }

    /** The high nibbles of {@code i}'s bytes in the low 4 bits (the lookup ignores the bits above). */
    static IntVector high(IntVector i) {
        return i.lanewise(VectorOperators.ASHR, 4);
    }

    /** A 16-entry table of floats as 16 / L int vectors (the float bits; block kernels run with 8 or 16 lanes). */
    static Table table(float[] values) {
        int[] bits = new int[16];
        boolean linear = true;
        for (int k = 0; k < 16; k++) {
            bits[k] = Float.floatToRawIntBits(values[k]);
            linear &= values[k] == values[0] + k;
        }
        IntVector[] v = new IntVector[2];
        for (int c = 0; c < PARTS; c++) {
            v[c] = IntVector.fromArray(I, bits, c * L);
        }
        return new Table(linear, (int) values[0], v[0], v[1]);
    }

    /**
     * The table vectors: {@code a} holds entries 0..L-1, {@code b} the next L (8 lanes; null with 16);
     * {@code linear}: entry q is {@code offset + q}.
     */
    record Table(boolean linear, int offset, IntVector a, IntVector b) {
    }

    /**
     * {@code table[i & 15]} per lane: with 16 lanes one permute (its index wraps to the table). With 8 lanes a linear
     * table is an addition and an int-to-float conversion, another one a two-vector permute.
     */
    static FloatVector lookup(IntVector i, Table t) {
        if (L == 16) {
            return i.selectFrom(t.a()).reinterpretAsFloats();
        }
        if (t.linear()) {
            return (FloatVector) i.and(0xF).add(t.offset()).convert(VectorOperators.I2F, 0);
        }
        return i.selectFrom(t.a(), t.b()).reinterpretAsFloats();
    }

    /**
     * Lanes of part {@code p} of weights 0..15 ({@code half} 0) or 16..31 ({@code half} 1) whose fifth bit is set:
     * bit j of the block's little-endian {@code qh} word is weight j's (Q5_0, Q5_1).
     */
    static VectorMask<Float> fifth(int qh, int half, int p) {
        return VectorMask.fromLong(F, (qh >>> (16 * half + p * L)) & 0xFFFF);
    }
}

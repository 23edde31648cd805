package dev.rudder.runtime.tensor;

import dev.rudder.runtime.kernel.Vectors;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * What the ggml blocks of 32 weights with 16 nibble bytes ({@code qs[j]}: weight j in the low nibble, weight j + 16 in
 * the high one) share on the vector path: Q4_1, Q5_0, Q5_1 and IQ4_NL. Small static methods so that C2 inlines them
 * into each type's row loop (vectors passed to a method that is not inlined get boxed). Only loaded by the vector
 * kernels (the scalar path must run without the Vector API module).
 */
final class NibbleBlocks {
    static final int BLOCK = 32;
    static final VectorSpecies<Float> F = Vectors.F;
    static final int L = Vectors.L;
    /** The 16 packed bytes of a block (one 128-bit vector). */
    static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    /** Float vectors per 16 weights. */
    static final int PARTS = 16 / L;

    private NibbleBlocks() {
    }

    /** The 16 nibble bytes at {@code offset}. */
    static ByteVector load(MemorySegment seg, long offset) {
        return ByteVector.fromMemorySegment(B, seg, offset, ByteOrder.LITTLE_ENDIAN);
    }

    /** Weights 0..15 of a block: the low nibbles, 0..15. */
    static ByteVector low(ByteVector q) {
        return q.and((byte) 0xF);
    }

    /** Weights 16..31 of a block: the high nibbles, 0..15. */
    static ByteVector high(ByteVector q) {
        return q.lanewise(VectorOperators.LSHR, 4).and((byte) 0xF);
    }

    /**
     * The 5-bit values 0..31 of weights 0..15 (Q5_0, Q5_1): the low nibbles with bit j of the block's little-endian
     * {@code qh} word as bit 4 of weight j (lane j of a mask made from the word's low 16 bits).
     */
    static ByteVector low5(ByteVector q, int qh) {
        return low(q).lanewise(VectorOperators.OR, (byte) 0x10, VectorMask.fromLong(B, qh & 0xFFFF));
    }

    /** As {@link #low5} for weights 16..31: the high nibbles, fifth bits from bits 16..31 of {@code qh}. */
    static ByteVector high5(ByteVector q, int qh) {
        return high(q).lanewise(VectorOperators.OR, (byte) 0x10, VectorMask.fromLong(B, qh >>> 16));
    }

    /** Float lanes {@code [p*L, (p+1)*L)} of 16 int8 weights. */
    static FloatVector widen(ByteVector w, int p) {
        return (FloatVector) w.convertShape(VectorOperators.B2F, F, p);
    }

}

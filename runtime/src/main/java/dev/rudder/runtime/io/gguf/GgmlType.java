package dev.rudder.runtime.io.gguf;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The tensor types of ggml ({@code enum ggml_type}): the number stored in a GGUF tensor info, the block size (elements
 * per block) and the bytes per block, as in ggml's {@code type_traits}. Every type is known so that every tensor's
 * size can be checked; {@link #isWeightType()} says which ones Rudder computes with.
 */
public enum GgmlType {
    F32(0, 1, 4), F16(1, 1, 2), Q4_0(2, 32, 18), Q4_1(3, 32, 20), Q5_0(6, 32, 22), Q5_1(7, 32, 24),
    Q8_0(8, 32, 34), Q8_1(9, 32, 36), Q2_K(10, 256, 84), Q3_K(11, 256, 110), Q4_K(12, 256, 144),
    Q5_K(13, 256, 176), Q6_K(14, 256, 210), Q8_K(15, 256, 292), IQ2_XXS(16, 256, 66), IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98), IQ1_S(19, 256, 50), IQ4_NL(20, 32, 18), IQ3_S(21, 256, 110), IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136), I8(24, 1, 1), I16(25, 1, 2), I32(26, 1, 4), I64(27, 1, 8), F64(28, 1, 8),
    IQ1_M(29, 256, 56), BF16(30, 1, 2), TQ1_0(34, 256, 54), TQ2_0(35, 256, 66), MXFP4(39, 32, 17);

    private final int id;
    private final int blockSize;
    private final int blockBytes;

    GgmlType(int id, int blockSize, int blockBytes) {
        this.id = id;
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** The number in the file. */
    public int id() {
        return id;
    }

    /** Elements per block (1 for the plain types). */
    public int blockSize() {
        return blockSize;
    }

    /** Bytes per block. */
    public int blockBytes() {
        return blockBytes;
    }

    /** Average storage per weight, e.g. 8.5 for Q8_0, 4.5 for Q4_0, 6.5625 for Q6_K. */
    public double bitsPerWeight() {
        return 8.0 * blockBytes / blockSize;
    }

    /** Types a model's weights may have in Rudder (matrices; norms must be F32/F16/BF16). */
    public boolean isWeightType() {
        return switch (this) {
            case F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, IQ4_XS, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /** Bytes of a row of {@code n} elements, or -1 when {@code n} is not a whole number of blocks. */
    public long rowBytes(long n) {
        return n % blockSize == 0 ? n / blockSize * blockBytes : -1;
    }

    /** The type with file number {@code id}, or null. */
    public static GgmlType byId(int id) {
        for (GgmlType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }

    /** The name of type number {@code id}, {@code "type N"} when unknown. */
    public static String nameOf(int id) {
        GgmlType t = byId(id);
        return t == null ? "type " + Integer.toUnsignedString(id) : t.name();
    }

    /** "F32, F16, BF16, Q8_0, ..." (for error messages). */
    public static String weightTypeNames() {
        return Arrays.stream(values()).filter(GgmlType::isWeightType).map(Enum::name).collect(Collectors.joining(", "));
    }
}

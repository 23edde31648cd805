package dev.rudder.runtime.io;

import dev.rudder.runtime.BadInputException;

import java.nio.file.Path;

/**
 * Element types of tensors: those of safetensors (the subset Rudder reads; names as in the safetensors header) and
 * the block-quantized ggml types a GGUF model may hold ({@code Q8_0 ... IQ4_NL}: {@code blockSize} weights in
 * {@code blockBytes} bytes).
 */
public enum DType {
    F32(4), F16(2), BF16(2), F64(8), I64(8), I32(4), I16(2), I8(1), U8(1), BOOL(1),
    Q8_0(32, 34), Q4_0(32, 18), Q4_K(256, 144), Q5_K(256, 176), Q6_K(256, 210),
    Q4_1(32, 20), Q5_0(32, 22), Q5_1(32, 24), IQ4_NL(32, 18), Q2_K(256, 84), Q3_K(256, 110), IQ4_XS(256, 136);

    private final int blockSize;
    private final int blockBytes;

    DType(int byteSize) {
        this(1, byteSize);
    }

    DType(int blockSize, int blockBytes) {
        this.blockSize = blockSize;
        this.blockBytes = blockBytes;
    }

    /** Bytes per element of a plain type; for a block-quantized type, bytes per block (see {@link #bytesFor}). */
    public int byteSize() {
        return blockBytes;
    }

    /** Bytes of {@code n} elements ({@code n} a multiple of {@link #blockSize()}). */
    public long bytesFor(long n) {
        return n / blockSize * blockBytes;
    }

    /** Elements per block: 1 for plain types. */
    public int blockSize() {
        return blockSize;
    }

    /** True for the ggml block-quantized types. */
    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** True for the types weight matrices may have: F32, F16, BF16 and the quantized ones. */
    public boolean isWeightType() {
        return isFloat32Widenable() || isQuantized();
    }

    /** The name used in safetensors headers ({@code "F32"}, {@code "BF16"}, ...). */
    public String safetensorsName() {
        return name();
    }

    /** True for the floating-point types that widen exactly to float32 ({@code F32}, {@code F16}, {@code BF16}). */
    public boolean isFloat32Widenable() {
        return this == F32 || this == F16 || this == BF16;
    }

    /**
     * Parses a safetensors dtype name.
     *
     * @throws BadInputException naming file and tensor when the name is unknown or unsupported
     */
    public static DType parse(String safetensorsName, Path file, String tensor) {
        if (safetensorsName != null) {
            for (DType d : values()) {
                if (!d.isQuantized() && d.name().equals(safetensorsName)) {
                    return d;
                }
            }
        }
        throw new BadInputException("tensor " + tensor + " in " + file + " has unknown or unsupported dtype "
                + (safetensorsName == null ? "(none)" : "\"" + safetensorsName + "\"")
                + " (supported: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL)");
    }

    /** Parses a user-facing name such as {@code bf16}, {@code float16}, {@code f32} (case-insensitive); null if unknown. */
    public static DType fromUserName(String s) {
        if (s == null) {
            return null;
        }
        return switch (s.trim().toLowerCase(java.util.Locale.ROOT)) {
            case "f32", "float32", "float" -> F32;
            case "f16", "float16", "half", "fp16" -> F16;
            case "bf16", "bfloat16" -> BF16;
            case "f64", "float64", "double" -> F64;
            default -> null;
        };
    }

    /** The Hugging Face {@code torch_dtype} spelling for the float types, else the lower-case name. */
    public String torchName() {
        return switch (this) {
            case F32 -> "float32";
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            case F64 -> "float64";
            default -> name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}

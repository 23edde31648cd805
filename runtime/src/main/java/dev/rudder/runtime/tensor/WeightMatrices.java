package dev.rudder.runtime.tensor;

import java.lang.foreign.MemorySegment;
import java.util.Locale;

/** Factory for the dtype-specific {@link WeightMatrix} implementations. */
public final class WeightMatrices {
    private WeightMatrices() {
    }

    /** Bytes per element of a supported dtype ("F32", "F16", "BF16"), or -1 if unsupported. */
    public static int elementBytes(String dtype) {
        return switch (dtype == null ? "" : dtype.toUpperCase(Locale.ROOT)) {
            case "F32" -> 4;
            case "F16", "BF16" -> 2;
            default -> -1;
        };
    }

    /**
     * Wraps {@code data} (row-major, little-endian, any address alignment; typically a mapped
     * safetensors slice) as a {@code [rows, cols]} matrix of {@code dtype}. No copy.
     *
     * @throws IllegalArgumentException unknown dtype, or {@code data.byteSize()} not
     *         {@code rows * cols * elementBytes}
     */
    public static WeightMatrix wrap(String dtype, MemorySegment data, int rows, int cols) {
        String d = dtype == null ? "" : dtype.toUpperCase(Locale.ROOT);
        return switch (d) {
            case "F32" -> new F32Matrix(data, rows, cols);
            case "F16" -> new F16Matrix(data, rows, cols);
            case "BF16" -> new BF16Matrix(data, rows, cols);
            default -> throw new IllegalArgumentException("unsupported weight dtype '" + dtype
                    + "' (supported: F32, F16, BF16)");
        };
    }

    /** A heap F32 matrix over {@code data} (not copied; row-major {@code rows * cols}). */
    public static WeightMatrix ofFloats(float[] data, int rows, int cols) {
        return new F32Matrix(MemorySegment.ofArray(data), rows, cols);
    }
}

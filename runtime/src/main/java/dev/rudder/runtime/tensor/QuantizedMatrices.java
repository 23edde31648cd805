package dev.rudder.runtime.tensor;

import java.lang.foreign.MemorySegment;

/** Factory and block codecs of the ggml block-quantized weight types ({@code Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, IQ4_XS, Q2_K,
 * Q3_K, Q4_K, Q5_K, Q6_K}). */
public final class QuantizedMatrices {
    private QuantizedMatrices() {
    }

    /** True for the type names this class wraps. */
    public static boolean isQuantized(String type) {
        return switch (type) {
            case "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "IQ4_XS", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K" -> true;
            default -> false;
        };
    }

    /** Wraps {@code data} ({@code rows} rows of whole blocks, ggml layout; no copy) as a matrix of {@code type}. */
    public static WeightMatrix wrap(String type, MemorySegment data, int rows, int cols) {
        return wrap(type, data, rows, cols, SegmentMatrix.VECTOR_DEFAULT);
    }

    /** As {@link #wrap(String, MemorySegment, int, int)}, choosing the Vector API or the scalar path (tests). */
    static BlockMatrix wrap(String type, MemorySegment data, int rows, int cols, boolean vector) {
        return switch (type) {
            case "Q8_0" -> new Q8_0Matrix(data, rows, cols, vector);
            case "Q4_0" -> new Q4_0Matrix(data, rows, cols, vector);
            case "Q4_1" -> new Q4_1Matrix(data, rows, cols, vector);
            case "Q5_0" -> new Q5_0Matrix(data, rows, cols, vector);
            case "Q5_1" -> new Q5_1Matrix(data, rows, cols, vector);
            case "IQ4_NL" -> new IQ4_NLMatrix(data, rows, cols, vector);
            case "IQ4_XS" -> new IQ4_XSMatrix(data, rows, cols, vector);
            case "Q2_K" -> new Q2KMatrix(data, rows, cols, vector);
            case "Q3_K" -> new Q3KMatrix(data, rows, cols, vector);
            case "Q4_K" -> new Q4KMatrix(data, rows, cols, vector);
            case "Q5_K" -> new Q5KMatrix(data, rows, cols, vector);
            case "Q6_K" -> new Q6KMatrix(data, rows, cols, vector);
            default -> throw new IllegalArgumentException("not a quantized weight type: " + type);
        };
    }

    /**
     * Dequantizes {@code n} elements of {@code type} (whole blocks) starting at byte {@code offset} of {@code seg}
     * into {@code dst[dOff ..)}, exactly as ggml's {@code dequantize_row_*}.
     */
    public static void dequantize(String type, MemorySegment seg, long offset, float[] dst, int dOff, int n) {
        switch (type) {
            case "Q8_0" -> Q8_0Matrix.dequantize(seg, offset, dst, dOff, n);
            case "Q4_0" -> Q4_0Matrix.dequantize(seg, offset, dst, dOff, n);
            case "Q4_1" -> Q4_1Matrix.dequantize(seg, offset, dst, dOff, n);
            case "Q5_0" -> Q5_0Matrix.dequantize(seg, offset, dst, dOff, n);
            case "Q5_1" -> Q5_1Matrix.dequantize(seg, offset, dst, dOff, n);
            case "IQ4_NL" -> IQ4_NLMatrix.dequantize(seg, offset, dst, dOff, n);
            case "IQ4_XS" -> IQ4_XSMatrix.dequantize(seg, offset, dst, dOff, n);
            case "Q2_K" -> Q2KMatrix.dequantize(seg, offset, dst, dOff, n);
            case "Q3_K" -> Q3KMatrix.dequantize(seg, offset, dst, dOff, n);
            case "Q4_K" -> Q4KMatrix.dequantize(seg, offset, dst, dOff, n);
            case "Q5_K" -> Q5KMatrix.dequantize(seg, offset, dst, dOff, n);
            case "Q6_K" -> Q6KMatrix.dequantize(seg, offset, dst, dOff, n);
            default -> throw new IllegalArgumentException("not a quantized weight type: " + type);
        }
    }
}

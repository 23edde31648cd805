package dev.rudder.runtime.tensor;

import dev.rudder.runtime.parallel.WorkerPool;

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

    /** Row-range grain for parallel matvec. */
    public static final int MATVEC_GRAIN = 8;
    /** Row-range grain for parallel matmul: a multiple of the kernels' row groups (6 and 16). */
    public static final int MATMUL_GRAIN = 48;

    /** {@code out[outOff + r] = dot(row r, x[xOff ..])} for all rows, rows split over the pool. */
    public static void matvec(WorkerPool pool, WeightMatrix m, float[] x, int xOff, float[] out, int outOff) {
        pool.parallelFor(m.rows(), MATVEC_GRAIN, (s, e) -> m.matvec(x, xOff, out, outOff, s, e));
    }

    /** {@link WeightMatrix#matmul} over all rows, rows split over the pool. */
    public static void matmul(WorkerPool pool, WeightMatrix m, float[] x, int n, float[] out, int outStride) {
        pool.parallelFor(m.rows(), MATMUL_GRAIN, (s, e) -> m.matmul(x, n, out, outStride, s, e));
    }
}

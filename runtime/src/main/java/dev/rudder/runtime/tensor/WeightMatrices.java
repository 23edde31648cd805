package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.parallel.WorkerPool;

import java.lang.foreign.MemorySegment;

/** Factory for the storage-type {@link WeightMatrix} implementations, and their parallel drivers. */
public final class WeightMatrices {
    private WeightMatrices() {
    }

    /** Whether {@link #wrap} supports weights stored as {@code dtype}. */
    public static boolean supports(DType dtype) {
        return dtype == DType.F32 || dtype == DType.F16 || dtype == DType.BF16 || dtype.isQuantized();
    }

    /**
     * Wraps {@code data} (row-major, little-endian, any address alignment; typically a mapped
     * file slice) as a {@code [rows, cols]} matrix of {@code dtype}. No copy.
     *
     * @throws IllegalArgumentException unsupported dtype, or {@code data.byteSize()} not what the
     *         shape needs
     */
    public static WeightMatrix wrap(DType dtype, MemorySegment data, int rows, int cols) {
        if (dtype == null) {
            throw new IllegalArgumentException("weight dtype missing (supported: F32, F16, BF16)");
        }
        return switch (dtype) {
            case F32 -> new F32Matrix(data, rows, cols);
            case F16 -> new F16Matrix(data, rows, cols);
            case BF16 -> new BF16Matrix(data, rows, cols);
            case Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, IQ4_XS, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K -> QuantizedMatrices.wrap(dtype.name(), data, rows, cols);
            default -> throw new IllegalArgumentException("unsupported weight dtype " + dtype
                    + " (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, IQ4_XS, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K)");
        };
    }

    /** A heap F32 matrix over {@code data} (not copied; row-major {@code rows * cols}). */
    public static WeightMatrix ofFloats(float[] data, int rows, int cols) {
        return new F32Matrix(MemorySegment.ofArray(data), rows, cols);
    }

    /** Row-range grain for parallel matvec. */
    public static final int MATVEC_GRAIN = 8;
    /** Row-range grain for parallel matmul: a multiple of the kernel's row group (6). */
    public static final int MATMUL_GRAIN = 48;

    /** {@code out[outOff + r] = dot(row r, x[xOff ..])} for all rows, rows split over the pool. */
    public static void matvec(WorkerPool pool, WeightMatrix m, float[] x, int xOff, float[] out, int outOff) {
        pool.parallelFor(m.rows(), MATVEC_GRAIN, (s, e) -> m.matvec(x, xOff, out, outOff, s, e));
    }

    /** {@link WeightMatrix#matvecBatch} over all rows, rows split over the pool. */
    public static void matvecBatch(WorkerPool pool, WeightMatrix m, float[] x, int n, int xStride, float[] out,
                                   int outStride) {
        pool.parallelFor(m.rows(), MATVEC_GRAIN, (s, e) -> m.matvecBatch(x, n, xStride, out, outStride, s, e));
    }

    /** {@link WeightMatrix#matmul} over all rows, rows split over the pool. */
    public static void matmul(WorkerPool pool, WeightMatrix m, float[] x, int n, float[] out, int outStride) {
        pool.parallelFor(m.rows(), MATMUL_GRAIN, (s, e) -> m.matmul(x, n, out, outStride, s, e));
    }
}

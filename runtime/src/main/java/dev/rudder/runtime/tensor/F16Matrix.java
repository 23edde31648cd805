package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.kernel.Vectors;

import java.lang.foreign.MemorySegment;

/**
 * IEEE binary16 weights, little-endian, row-major. Widening is exact: {@link Float#float16ToFloat}
 * on both paths. The incubating Vector API of JDK 25 has no half-float conversion operator, and a
 * bit-level one is too big for C2 to inline in a matvec loop; instead the vector kernel widens a
 * row at a time, straight from the segment, with a plain loop of the intrinsic conversion, then takes
 * a Vector API dot product ({@link Vectors#dot}). Measured faster than a bit-level Vector API
 * conversion fused into the dot (22 against 8-15 tok/s decode on the SmolLM2-135M shape), but it is two
 * passes: decode runs at about a third of BF16's. Its {@code dot4} and {@code dot4xN} (batches) convert
 * each of the four rows once, then share one {@link Vectors#laneSums} for all their results.
 */
public final class F16Matrix extends SegmentMatrix {

    public F16Matrix(MemorySegment data, int rows, int cols) {
        this(data, rows, cols, VECTOR_DEFAULT);
    }

    F16Matrix(MemorySegment data, int rows, int cols, boolean vector) {
        super(data, rows, cols, 2L * cols, vector);
    }

    @Override
    public DType dtype() {
        return DType.F16;
    }

    static float at(MemorySegment seg, long byteOffset) {
        return Float.float16ToFloat(seg.get(BF16Matrix.SHORT_LE, byteOffset));
    }

    @Override
    void rowToFloats(int row, float[] dst, int off) {
        long base = 2L * cols * row;
        for (int c = 0; c < cols; c++) {
            dst[off + c] = at(data, base + 2L * c);
        }
    }

    @Override
    RowKernel vectorKernel() {
        return new Vec(data, cols);
    }

    /** The auto-vectorized conversion loop of the vector kernel. */
    static void widen(short[] h, float[] dst, int dOff, int n) {
        for (int i = 0; i < n; i++) {
            dst[dOff + i] = Float.float16ToFloat(h[i]);
        }
    }

    private static final class Vec implements RowKernel {
        private final MemorySegment seg;
        private final int cols;

        Vec(MemorySegment seg, int cols) {
            this.seg = seg;
            this.cols = cols;
        }

        /** Each row converted once, then {@code dot1}'s dot product; the four lane sums at once. */
        @Override
        public void dot4(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] res) {
            Scratch sc = Scratch.get();
            float[] w = sc.w(4 * cols);               // [4 rows, cols] widened
            float[] t = sc.t(4 * Vectors.L);          // [4 rows, L lanes], then the 4 sums
            widen4(r0, r1, r2, r3, w);
            for (int k = 0; k < 4; k++) {
                Vectors.dotLanes(w, k * cols, x, xOff, cols, t, k * Vectors.L);
            }
            Vectors.laneSums(t, 4);
            for (int k = 0; k < 4; k++) {
                res[k] = Vectors.dotTail(t[k], w, k * cols, x, xOff, cols);
            }
        }

        /** Each row converted once, then {@code dot1}'s dot product with each of the n inputs; one lane-sum tree. */
        @Override
        public void dot4xN(int r0, int r1, int r2, int r3, float[] x, int base, int stride, int n, float[] res) {
            Scratch sc = Scratch.get();
            float[] w = sc.w(4 * cols);               // [4 rows, cols] widened
            float[] t = sc.t(Vectors.laneSumSlots(4 * n) * Vectors.L);  // [n inputs, 4 rows, L lanes]
            widen4(r0, r1, r2, r3, w);
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < 4; k++) {
                    Vectors.dotLanes(w, k * cols, x, base + i * stride, cols, t, (4 * i + k) * Vectors.L);
                }
            }
            Vectors.laneSums(t, 4 * n);
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < 4; k++) {
                    res[4 * i + k] = Vectors.dotTail(t[4 * i + k], w, k * cols, x, base + i * stride, cols);
                }
            }
        }

        private void widen4(int r0, int r1, int r2, int r3, float[] w) {
            widen(r0, w, 0);
            widen(r1, w, cols);
            widen(r2, w, 2 * cols);
            widen(r3, w, 3 * cols);
        }

        @Override
        public float dot1(int row, float[] x, int xOff) {
            Scratch sc = Scratch.get();
            float[] w = sc.w(cols);
            widen(row, w, 0);
            return Vectors.dot(w, 0, x, xOff, cols, sc.t(Vectors.L));
        }

        /** The row's halves converted straight from the segment (a loop C2 vectorizes: vcvtph2ps). */
        @Override
        public void widen(int row, float[] dst, int off) {
            long b = 2L * cols * row;
            for (int c = 0; c < cols; c++) {
                dst[off + c] = Float.float16ToFloat(seg.get(BF16Matrix.SHORT_LE, b + 2L * c));
            }
        }
    }
}

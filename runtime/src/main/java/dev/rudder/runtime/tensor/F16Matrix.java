package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.kernel.Vectors;

import java.lang.foreign.MemorySegment;

/**
 * IEEE binary16 weights, little-endian, row-major. Widening is exact: {@link Float#float16ToFloat}
 * on both paths. The incubating Vector API of JDK 25 has no half-float conversion operator, and a
 * bit-level one is too big for C2 to inline in a matvec loop; instead the vector kernel widens a
 * row at a time with a plain loop that C2 intrinsifies and auto-vectorizes (vcvtph2ps), then takes
 * a Vector API dot product ({@link Vectors#dot}). Measured ~3x faster than a bit-level Vector API
 * conversion. One row at a time: its {@code dot4} is four {@code dot1}s; its {@code dot4x4} (batches)
 * converts each row once for four inputs.
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

        @Override
        public void dot4(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] res) {
            res[0] = dot1(r0, x, xOff);
            res[1] = dot1(r1, x, xOff);
            res[2] = dot1(r2, x, xOff);
            res[3] = dot1(r3, x, xOff);
        }

        /** Each row converted once, then {@code dot1}'s dot product with each of the four inputs. */
        @Override
        public void dot4x4(int r0, int r1, int r2, int r3, float[] x, int o0, int o1, int o2, int o3, float[] res) {
            Scratch sc = Scratch.get();
            float[] w = sc.w(cols);                   // [cols] one widened row
            float[] lanes = sc.t(Vectors.L);
            for (int k = 0; k < 4; k++) {
                widen(k == 0 ? r0 : k == 1 ? r1 : k == 2 ? r2 : r3, w, 0);
                res[4 * k] = Vectors.dot(w, 0, x, o0, cols, lanes);
                res[4 * k + 1] = Vectors.dot(w, 0, x, o1, cols, lanes);
                res[4 * k + 2] = Vectors.dot(w, 0, x, o2, cols, lanes);
                res[4 * k + 3] = Vectors.dot(w, 0, x, o3, cols, lanes);
            }
        }

        @Override
        public float dot1(int row, float[] x, int xOff) {
            Scratch sc = Scratch.get();
            float[] w = sc.w(cols);
            widen(row, w, 0);
            return Vectors.dot(w, 0, x, xOff, cols, sc.t(Vectors.L));
        }

        /** Bulk copy of the row's halves into the short[] scratch, then the conversion loop. */
        @Override
        public void widen(int row, float[] dst, int off) {
            short[] h = Scratch.get().h(cols);
            MemorySegment.copy(seg, BF16Matrix.SHORT_LE, 2L * cols * row, h, 0, cols);
            F16Matrix.widen(h, dst, off, cols);
        }
    }
}

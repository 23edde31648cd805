package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.kernel.VectorSupport;

import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * The drivers shared by every storage type, written once: row streams and batches for matvec,
 * the matmul driver, the scalar reference and the argument checks. A storage type (one small
 * subclass per {@link DType}) supplies only what differs: its byte size per row, its exact scalar
 * read ({@link #rowToFloats}) and its vector {@link RowKernel} (row dot products over its own
 * layout, row widening), chosen once per matrix.
 *
 * <p>Matvec on the vector path: the row range is cut in four quarters and one row of each is
 * read per pass (four sequential memory streams per thread: measured single-thread from DRAM on
 * a 2-core EPYC, one stream ~13.5 GB/s, four adjacent rows ~8.6 GB/s, four quarter-apart rows
 * ~19 GB/s); the leftover rows (range % 4) go one at a time with the same per-row arithmetic.
 * A batch of inputs runs against those four rows up to {@link RowKernel#MAX_BATCH} inputs at a time
 * ({@link RowKernel#dot4xN}: each weight block loaded and widened once for them), so the weights come
 * from memory once, their widening is shared, and each output is still the single-input result.
 */
abstract class SegmentMatrix implements WeightMatrix {
    /** Vector API paths unless the module is absent or -Drudder.scalar=true. */
    static final boolean VECTOR_DEFAULT = VectorSupport.useVector();
    /** Row groups whose batch results are gathered before they are written out. */
    private static final int GROUPS = 16;

    final MemorySegment data;
    final int rows;
    final int cols;
    final boolean vector;
    private final RowKernel kernel;

    SegmentMatrix(MemorySegment data, int rows, int cols, long rowBytes, boolean vector) {
        Objects.requireNonNull(data, "data");
        if (rows < 0 || cols < 0) {
            throw new IllegalArgumentException("negative shape [" + rows + ", " + cols + "]");
        }
        long expected = rows * rowBytes;
        if (data.byteSize() != expected) {
            throw new IllegalArgumentException("weight data has " + data.byteSize() + " bytes, shape [" + rows + ", "
                    + cols + "] of " + dtype() + " needs " + expected);
        }
        this.data = data.isReadOnly() ? data : data.asReadOnly();
        this.rows = rows;
        this.cols = cols;
        this.vector = vector;
        this.kernel = vector ? vectorKernel() : new ScalarRows(this);
    }

    /**
     * Row {@code row} widened exactly to float32, natural column order, into
     * {@code dst[off .. off+cols)}: the scalar read every other path is tested against.
     */
    abstract void rowToFloats(int row, float[] dst, int off);

    /** The Vector API kernel of this type (called once, from the constructor, only on the vector path). */
    abstract RowKernel vectorKernel();

    @Override
    public final int rows() {
        return rows;
    }

    @Override
    public final int cols() {
        return cols;
    }

    @Override
    public final long byteSize() {
        return data.byteSize();
    }

    /** The underlying read-only segment (row-major, little-endian). */
    public final MemorySegment segment() {
        return data;
    }

    /** Whether this instance runs the Vector API path. */
    public final boolean isVector() {
        return vector;
    }

    @Override
    public final void readRow(int row, float[] dst, int dstOff) {
        checkRows(row, row + 1);
        rowToFloats(row, dst, dstOff);
    }

    @Override
    public final void matvec(float[] x, int xOff, float[] out, int outOff, int rowStart, int rowEnd) {
        checkRows(rowStart, rowEnd);
        products(x, xOff, 1, cols, out, outOff, 0, rowStart, rowEnd);
    }

    @Override
    public final void matvecBatch(float[] x, int n, int xStride, float[] out, int outStride, int rowStart, int rowEnd) {
        checkRows(rowStart, rowEnd);
        if (n < 0 || xStride < cols) {
            throw new IllegalArgumentException("batch of " + n + " inputs with stride " + xStride + " for " + cols + " columns");
        }
        products(x, 0, n, xStride, out, 0, outStride, rowStart, rowEnd);
    }

    @Override
    public final void matmul(float[] x, int n, float[] out, int outStride, int rowStart, int rowEnd) {
        checkRows(rowStart, rowEnd);
        if (!vector) {
            matmulScalar(x, n, out, outStride, rowStart, rowEnd);
        } else if (n < 4) {
            products(x, 0, n, cols, out, 0, outStride, rowStart, rowEnd);
        } else {
            MatmulKernel.product(kernel, cols, x, n, out, outStride, rowStart, rowEnd);
        }
    }

    /**
     * The matvec driver: input i at {@code x[xOff + i*xStride]}, its output row r at
     * {@code out[outOff + i*outStride + r]}.
     */
    private void products(float[] x, int xOff, int n, int xStride, float[] out, int outOff, int outStride,
                          int r0, int r1) {
        if (n == 0 || r0 == r1) {
            return;
        }
        RowKernel k = kernel;
        Scratch sc = Scratch.get();
        float[] in = x;
        int base = xOff;
        int stride = xStride;
        ColumnOrder order = k.order();
        if (order != ColumnOrder.NATURAL) {
            in = sc.x(n * cols);                       // [n, cols] inputs in the kernel's order
            for (int i = 0; i < n; i++) {
                order.arrange(x, xOff + i * xStride, cols, in, i * cols);
            }
            base = 0;
            stride = cols;
        }
        float[] resN = sc.resN();                      // [MAX_BATCH inputs, 4 rows]
        int q = (r1 - r0) / 4;
        if (n == 1) {
            for (int r = r0; r < r0 + q; r++) {
                k.dot4(r, r + q, r + 2 * q, r + 3 * q, in, base, resN);
                int o = outOff + r;
                out[o] = resN[0];
                out[o + q] = resN[1];
                out[o + 2 * q] = resN[2];
                out[o + 3 * q] = resN[3];
            }
        } else {
            // results of GROUPS consecutive row groups are gathered, then written as runs of consecutive rows per
            // input and quarter (scattered single stores into n far-apart output rows missed the cache)
            float[] buf = sc.batchOut(GROUPS * n * 4);  // [GROUPS row groups, n inputs, 4 rows]
            for (int r = r0; r < r0 + q; r += GROUPS) {
                int g = Math.min(GROUPS, r0 + q - r);
                for (int j = 0; j < g; j++) {
                    int row = r + j;
                    // up to MAX_BATCH inputs per call, each weight block widened once for them; a lone one: dot4
                    for (int i0 = 0; i0 < n; i0 += RowKernel.MAX_BATCH) {
                        int m = Math.min(RowKernel.MAX_BATCH, n - i0);
                        if (m == 1) {
                            k.dot4(row, row + q, row + 2 * q, row + 3 * q, in, base + i0 * stride, resN);
                        } else {
                            k.dot4xN(row, row + q, row + 2 * q, row + 3 * q, in, base + i0 * stride, stride, m, resN);
                        }
                        System.arraycopy(resN, 0, buf, (j * n + i0) * 4, 4 * m);
                    }
                }
                for (int i = 0; i < n; i++) {
                    for (int kq = 0; kq < 4; kq++) {
                        int o = outOff + i * outStride + r + kq * q;
                        for (int j = 0, b = i * 4 + kq; j < g; j++, b += 4 * n) {
                            out[o + j] = buf[b];
                        }
                    }
                }
            }
        }
        for (int r = r0 + 4 * q; r < r1; r++) {
            for (int i = 0; i < n; i++) {
                out[outOff + i * outStride + r] = k.dot1(r, in, base + i * stride);
            }
        }
    }

    /** The scalar reference for {@link #matmul}, the same for every dtype: widen a row, dot it with each input. */
    private void matmulScalar(float[] x, int n, float[] out, int outStride, int rowStart, int rowEnd) {
        float[] w = Scratch.get().w(cols);
        for (int r = rowStart; r < rowEnd; r++) {
            rowToFloats(r, w, 0);
            for (int i = 0; i < n; i++) {
                out[i * outStride + r] = ScalarRows.dot(w, x, i * cols, cols);
            }
        }
    }

    /** The scalar path as a kernel: the exact row widening, then a sum in column order. */
    private static final class ScalarRows implements RowKernel {
        private final SegmentMatrix m;

        ScalarRows(SegmentMatrix m) {
            this.m = m;
        }

        static float dot(float[] w, float[] x, int xOff, int cols) {
            float acc = 0f;
            for (int c = 0; c < cols; c++) {
                acc += w[c] * x[xOff + c];
            }
            return acc;
        }

        @Override
        public void dot4(int r0, int r1, int r2, int r3, float[] x, int xOff, float[] res) {
            res[0] = dot1(r0, x, xOff);
            res[1] = dot1(r1, x, xOff);
            res[2] = dot1(r2, x, xOff);
            res[3] = dot1(r3, x, xOff);
        }

        @Override
        public float dot1(int row, float[] x, int xOff) {
            float[] w = Scratch.get().w(m.cols);
            m.rowToFloats(row, w, 0);
            return dot(w, x, xOff, m.cols);
        }

        @Override
        public void widen(int row, float[] dst, int off) {
            m.rowToFloats(row, dst, off);
        }
    }

    final void checkRows(int rowStart, int rowEnd) {
        if (rowStart < 0 || rowEnd > rows || rowStart > rowEnd) {
            throw new IndexOutOfBoundsException("row range [" + rowStart + ", " + rowEnd + ") of " + rows + " rows");
        }
    }

    @Override
    public String toString() {
        return dtype() + "[" + rows + ", " + cols + "]" + (vector ? "" : " (scalar)");
    }
}

package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.kernel.Vectors;
import jdk.incubator.vector.IntVector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class WeightMatrixTest {
    static final int[] COLS = {1, 2, 7, 16, 17, 31, 63, 64, 65, 172, 577};
    static final int[] ROWS = {1, 3, 5, 9, 13};
    static final DType[] DTYPES = {DType.F32, DType.F16, DType.BF16};
    static final Arena ARENA = Arena.ofShared();
    static final ValueLayout.OfShort SHORT_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfFloat FLOAT_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    final Random rnd = new Random(7);

    @AfterAll
    static void closeArena() {
        ARENA.close();
    }

    /** A random matrix, its exactly-widened float values, placed at an odd address offset. */
    record Fixture(MemorySegment seg, float[] values) {
    }

    Fixture fixture(DType dtype, int rows, int cols) {
        int eb = dtype.byteSize();
        long bytes = (long) rows * cols * eb;
        MemorySegment seg = ARENA.allocate(bytes + 3, 16).asSlice(1, bytes); // unaligned on purpose
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            float f = (float) rnd.nextGaussian() * 0.5f;
            switch (dtype) {
                case F32 -> {
                    seg.set(FLOAT_LE, 4L * i, f);
                    v[i] = f;
                }
                case F16 -> {
                    short h = Float.floatToFloat16(f);
                    seg.set(SHORT_LE, 2L * i, h);
                    v[i] = Float.float16ToFloat(h);
                }
                case BF16 -> {
                    short b = (short) (Float.floatToRawIntBits(f) >>> 16);
                    seg.set(SHORT_LE, 2L * i, b);
                    v[i] = Float.intBitsToFloat(b << 16);
                }
                default -> throw new AssertionError();
            }
        }
        return new Fixture(seg, v);
    }

    static WeightMatrix make(DType dtype, MemorySegment seg, int rows, int cols, boolean vector) {
        return switch (dtype) {
            case F32 -> new F32Matrix(seg, rows, cols, vector);
            case F16 -> new F16Matrix(seg, rows, cols, vector);
            case BF16 -> new BF16Matrix(seg, rows, cols, vector);
            default -> throw new AssertionError();
        };
    }

    float[] rand(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    static void check(float[] w, int r, int cols, float[] x, int xOff, float actual, String what) {
        double ref = 0;
        double abs = 0;
        for (int c = 0; c < cols; c++) {
            double p = (double) w[r * cols + c] * x[xOff + c];
            ref += p;
            abs += Math.abs(p);
        }
        double tol = 2.0 * (cols + 2) * Math.ulp(1f) * abs + 1e-30;
        double e = ref;
        assertTrue(Math.abs(e - actual) <= tol, () -> what + ": row " + r + " expected " + e + " got " + actual + " tol " + tol);
    }

    @Test
    void matvecVectorAndScalarAgainstDoubleReference() {
        for (DType dtype : DTYPES) {
            for (int rows : ROWS) {
                for (int cols : COLS) {
                    Fixture f = fixture(dtype, rows, cols);
                    float[] x = rand(cols + 3);
                    for (boolean vector : new boolean[] {false, true}) {
                        WeightMatrix m = make(dtype, f.seg, rows, cols, vector);
                        assertEquals(dtype, m.dtype());
                        assertEquals(rows, m.rows());
                        assertEquals(cols, m.cols());
                        // full range, then a range not starting at 0
                        int[][] ranges = {{0, rows}, {1, rows}, {rows / 2, rows}, {rows - 1, rows}, {0, 0}};
                        for (int[] rg : ranges) {
                            float[] out = new float[rows + 2];
                            java.util.Arrays.fill(out, Float.NaN);
                            m.matvec(x, 3, out, 2, rg[0], rg[1]);
                            for (int r = 0; r < rows; r++) {
                                String what = dtype + " " + (vector ? "vector" : "scalar") + " [" + rows + "x" + cols + "] range " + rg[0] + ".." + rg[1];
                                if (r >= rg[0] && r < rg[1]) {
                                    check(f.values, r, cols, x, 3, out[2 + r], what);
                                } else {
                                    assertTrue(Float.isNaN(out[2 + r]), what + " wrote outside range at " + r);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void matmulVectorAndScalarAgainstDoubleReference() {
        for (DType dtype : DTYPES) {
            for (int rows : new int[] {1, 4, 5, 11, 16, 17, 35, 50, 70}) {
                for (int cols : COLS) {
                    Fixture f = fixture(dtype, rows, cols);
                    for (int n : new int[] {1, 2, 5, 6, 8, 13, 17, 40}) {
                        float[] x = rand(n * cols);
                        int stride = rows + 3;
                        for (boolean vector : new boolean[] {false, true}) {
                            WeightMatrix m = make(dtype, f.seg, rows, cols, vector);
                            int[][] ranges = {{0, rows}, {1, rows}, {rows / 2, rows}, {rows / 3, rows - rows / 4}};
                            for (int[] rg : ranges) {
                                float[] out = new float[n * stride];
                                java.util.Arrays.fill(out, Float.NaN);
                                m.matmul(x, n, out, stride, rg[0], rg[1]);
                                for (int i = 0; i < n; i++) {
                                    for (int r = 0; r < stride; r++) {
                                        String what = dtype + " matmul " + (vector ? "vector" : "scalar") + " [" + rows + "x" + cols
                                                + "] n=" + n + " i=" + i + " range " + rg[0] + ".." + rg[1];
                                        float o = out[i * stride + r];
                                        if (r >= rg[0] && r < rg[1]) {
                                            check(f.values, r, cols, x, i * cols, o, what);
                                        } else {
                                            assertTrue(Float.isNaN(o), what + " wrote outside range at " + r);
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * A row's matvec result depends only on the row and the input: the same bits over any row
     * range (streamed rows and leftover rows alike), and in a batch of any size (batched decode
     * must equal each sequence decoded alone; thread count must not change results).
     */
    @Test
    void matvecBitsDoNotDependOnRangeOrBatch() {
        for (DType dtype : DTYPES) {
            for (int cols : new int[] {7, 64, 130, 577}) {
                int rows = 23;
                Fixture f = fixture(dtype, rows, cols);
                for (boolean vector : new boolean[] {false, true}) {
                    WeightMatrix m = make(dtype, f.seg, rows, cols, vector);
                    int xStride = cols + 5;
                    int n = 18;                       // past RowKernel.MAX_BATCH: cut into calls of 16 and 1-2
                    float[] xs = rand(n * xStride);
                    float[][] alone = new float[n][rows];
                    for (int i = 0; i < n; i++) {
                        m.matvec(xs, i * xStride, alone[i], 0, 0, rows);
                    }
                    String what = dtype + " " + (vector ? "vector" : "scalar") + " cols=" + cols;
                    for (int[] rg : new int[][] {{0, 1}, {0, 3}, {1, 6}, {2, 11}, {5, 23}, {17, 23}, {22, 23}}) {
                        for (int i = 0; i < n; i++) {
                            float[] out = new float[rows];
                            m.matvec(xs, i * xStride, out, 0, rg[0], rg[1]);
                            for (int r = rg[0]; r < rg[1]; r++) {
                                assertEquals(Float.floatToRawIntBits(alone[i][r]), Float.floatToRawIntBits(out[r]),
                                        what + " range " + rg[0] + ".." + rg[1] + " row " + r);
                            }
                        }
                        for (int b : new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 18}) {
                            int outStride = rows + 2;
                            float[] out = new float[b * outStride];
                            java.util.Arrays.fill(out, Float.NaN);
                            m.matvecBatch(xs, b, xStride, out, outStride, rg[0], rg[1]);
                            for (int i = 0; i < b; i++) {
                                for (int r = 0; r < outStride; r++) {
                                    float o = out[i * outStride + r];
                                    if (r >= rg[0] && r < rg[1]) {
                                        assertEquals(Float.floatToRawIntBits(alone[i][r]), Float.floatToRawIntBits(o),
                                                what + " batch " + b + " input " + i + " row " + r);
                                    } else {
                                        assertTrue(Float.isNaN(o), what + " batch wrote outside its range at " + r);
                                    }
                                }
                            }
                        }
                    }
                    // prefill of one to three rows is the batched matvec
                    float[] x3 = new float[3 * cols];
                    for (int i = 0; i < 3; i++) {
                        System.arraycopy(xs, i * xStride, x3, i * cols, cols);
                    }
                    float[] mm = new float[3 * rows];
                    m.matmul(x3, 3, mm, rows, 0, rows);
                    for (int i = 0; i < 3; i++) {
                        for (int r = 0; r < rows; r++) {
                            assertEquals(Float.floatToRawIntBits(alone[i][r]), Float.floatToRawIntBits(mm[i * rows + r]),
                                    what + " matmul n=3");
                        }
                    }
                }
            }
        }
    }

    /**
     * Batches over many row groups (the driver gathers the results of 16 groups of four rows before writing
     * them out): every output still lands in its row and equals that input's matvec alone.
     */
    @Test
    void batchesOverManyRowGroupsEqualMatvecAlone() {
        for (DType dtype : DTYPES) {
            int rows = 4 * 37 + 3;                    // 37 groups: two full gathers and a partial one, 3 leftover rows
            int cols = 130;
            Fixture f = fixture(dtype, rows, cols);
            WeightMatrix m = make(dtype, f.seg, rows, cols, true);
            int n = 17;
            float[] xs = rand(n * cols);
            for (int[] rg : new int[][] {{0, rows}, {9, rows - 4}}) {
                for (int b : new int[] {2, 3, 8, 17}) {
                    int outStride = rows + 1;
                    float[] out = new float[b * outStride];
                    java.util.Arrays.fill(out, Float.NaN);
                    m.matvecBatch(xs, b, cols, out, outStride, rg[0], rg[1]);
                    for (int i = 0; i < b; i++) {
                        float[] alone = new float[rows];
                        m.matvec(xs, i * cols, alone, 0, rg[0], rg[1]);
                        for (int r = 0; r < outStride; r++) {
                            float o = out[i * outStride + r];
                            if (r >= rg[0] && r < rg[1]) {
                                assertEquals(Float.floatToRawIntBits(alone[r]), Float.floatToRawIntBits(o),
                                        dtype + " batch " + b + " input " + i + " row " + r);
                            } else {
                                assertTrue(Float.isNaN(o), dtype + " batch wrote outside its range at " + r);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Real model files put rows beyond 2 GiB (a 7B checkpoint is 13.5 GB; a 70B embedding alone is
     * 2.1 GB): offsets must be long all the way. A sparse file just over 2 GiB per dtype, mapped;
     * only the last rows hold data (so the test touches a few pages).
     */
    @Test
    void rowsBeyondTwoGibibytesAreAddressed(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        int cols = 4096;
        for (DType dtype : DTYPES) {
            int eb = dtype.byteSize();
            int rows = (int) ((1L << 31) / ((long) cols * eb)) + 6;
            long size = (long) rows * cols * eb;
            int tail = 6;
            Fixture f = fixture(dtype, tail, cols);                  // the values of the last rows
            java.nio.file.Path file = tmp.resolve(dtype + ".bin");
            try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(file.toFile(), "rw")) {
                raf.setLength(size);                                 // sparse: no disk or memory used
                raf.getChannel().write(f.seg.asByteBuffer(), size - f.seg.byteSize());
            }
            try (Arena arena = Arena.ofConfined();
                 java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file)) {
                MemorySegment seg = ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, size, arena);
                for (boolean vector : new boolean[] {false, true}) {
                    WeightMatrix m = make(dtype, seg, rows, cols, vector);
                    int r0 = rows - tail;
                    String what = dtype + " " + (vector ? "vector" : "scalar") + " beyond 2 GiB";
                    float[] x = rand(3 * cols);
                    float[] out = new float[rows];
                    m.matvec(x, 0, out, 0, r0, rows);
                    float[] batch = new float[3 * rows];
                    m.matvecBatch(x, 3, cols, batch, rows, r0, rows);
                    for (int i = 0; i < 3; i++) {
                        float[] alone = new float[rows];
                        m.matvec(x, i * cols, alone, 0, r0, rows);
                        for (int j = 0; j < tail; j++) {
                            assertEquals(Float.floatToRawIntBits(alone[r0 + j]), Float.floatToRawIntBits(batch[i * rows + r0 + j]),
                                    what + " batch input " + i);
                        }
                    }
                    float[] row = new float[cols];
                    for (int j = 0; j < tail; j++) {
                        check(f.values, j, cols, x, 0, out[r0 + j], what + " matvec row " + (r0 + j));
                        m.readRow(r0 + j, row, 0);
                        for (int c = 0; c < cols; c++) {
                            assertEquals(Float.floatToRawIntBits(f.values[j * cols + c]), Float.floatToRawIntBits(row[c]), what);
                        }
                    }
                    float[] mm = new float[5 * rows];
                    float[] x5 = rand(5 * cols);
                    m.matmul(x5, 5, mm, rows, r0, rows);
                    for (int i = 0; i < 5; i++) {
                        for (int j = 0; j < tail; j++) {
                            check(f.values, j, cols, x5, i * cols, mm[i * rows + r0 + j], what + " matmul");
                        }
                    }
                }
            }
        }
    }

    @Test
    void matvecBatchRejectsBadArguments() {
        Fixture f = fixture(DType.BF16, 4, 8);
        WeightMatrix m = WeightMatrices.wrap(DType.BF16, f.seg, 4, 8);
        float[] x = new float[16];
        float[] out = new float[8];
        assertThrows(IllegalArgumentException.class, () -> m.matvecBatch(x, 2, 7, out, 4, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> m.matvecBatch(x, -1, 8, out, 4, 0, 4));
        assertThrows(IndexOutOfBoundsException.class, () -> m.matvecBatch(x, 2, 8, out, 4, 0, 5));
        m.matvecBatch(x, 0, 8, out, 4, 0, 4);   // nothing to do
    }

    @Test
    void matmulLargerBatchesMatchMatvec() {
        for (DType dtype : DTYPES) {
            int rows = 37;
            int cols = 130;
            Fixture f = fixture(dtype, rows, cols);
            int n = 19;
            float[] x = rand(n * cols);
            WeightMatrix v = make(dtype, f.seg, rows, cols, true);
            WeightMatrix s = make(dtype, f.seg, rows, cols, false);
            float[] ov = new float[n * rows];
            float[] os = new float[n * rows];
            v.matmul(x, n, ov, rows, 0, rows);
            s.matmul(x, n, os, rows, 0, rows);
            float[] mv = new float[rows];
            for (int i = 0; i < n; i++) {
                s.matvec(x, i * cols, mv, 0, 0, rows);
                for (int r = 0; r < rows; r++) {
                    // scalar matmul and scalar matvec sum in the same order
                    assertEquals(mv[r], os[i * rows + r], 0f);
                    check(f.values, r, cols, x, i * cols, ov[i * rows + r], dtype + " vector matmul");
                }
            }
        }
    }

    /**
     * From four inputs on (the matmul kernel), an output's bits depend only on its row and input, not on how many
     * inputs share the call (narrow and wide slabs, padded slabs, slabs of at most L inputs run on their first half
     * only, chunks of 256) or the row range: a prompt
     * prefilled in chunks gives the whole prompt's results.
     */
    @Test
    void matmulBitsDoNotDependOnBatchSizeOrRange() {
        for (DType dtype : DTYPES) {
            int rows = 29;
            int cols = 70;
            Fixture f = fixture(dtype, rows, cols);
            WeightMatrix m = make(dtype, f.seg, rows, cols, true);
            int all = 300;
            float[] x = rand(all * cols);
            float[] ref = new float[all * rows];
            m.matmul(x, all, ref, rows, 0, rows);
            for (int[] part : new int[][] {{0, 4}, {3, 5}, {2, 8}, {0, 16}, {9, 17}, {10, 31}, {7, 32}, {1, 33}, {2, 48}, {40, 64}, {0, 65}, {100, 100}, {13, 257}}) {
                int from = part[0];
                int n = part[1];
                for (int[] rg : new int[][] {{0, rows}, {5, 6}, {3, 20}}) {
                    float[] out = new float[n * rows];
                    m.matmul(java.util.Arrays.copyOfRange(x, from * cols, (from + n) * cols), n, out, rows, rg[0], rg[1]);
                    for (int i = 0; i < n; i++) {
                        for (int r = rg[0]; r < rg[1]; r++) {
                            assertEquals(Float.floatToRawIntBits(ref[(from + i) * rows + r]), Float.floatToRawIntBits(out[i * rows + r]),
                                    dtype + " n=" + n + " input " + (from + i) + " row " + r);
                        }
                    }
                }
            }
        }
    }

    @Test
    void matmulLongBatchIsChunked() {
        // more inputs than one transposed chunk (256), rows >= n so the transposed-input path runs
        for (DType dtype : DTYPES) {
            int rows = 300;
            int cols = 21;
            int n = 290;
            Fixture f = fixture(dtype, rows, cols);
            float[] x = rand(n * cols);
            float[] out = new float[n * rows];
            make(dtype, f.seg, rows, cols, true).matmul(x, n, out, rows, 0, rows);
            for (int i = 0; i < n; i += 7) {
                for (int r = 0; r < rows; r += 5) {
                    check(f.values, r, cols, x, i * cols, out[i * rows + r], dtype + " chunked i=" + i);
                }
            }
            check(f.values, rows - 1, cols, x, (n - 1) * cols, out[(n - 1) * rows + rows - 1], dtype + " chunked last");
        }
    }

    @Test
    void parallelHelpers() {
        try (dev.rudder.runtime.parallel.WorkerPool pool = new dev.rudder.runtime.parallel.WorkerPool(3)) {
            for (DType dtype : DTYPES) {
                int rows = 150;
                int cols = 70;
                Fixture f = fixture(dtype, rows, cols);
                WeightMatrix m = WeightMatrices.wrap(dtype, f.seg, rows, cols);
                float[] x = rand(10 * cols);
                float[] out = new float[rows + 1];
                WeightMatrices.matvec(pool, m, x, cols, out, 1);
                for (int r = 0; r < rows; r++) {
                    check(f.values, r, cols, x, cols, out[1 + r], dtype + " parallel matvec");
                }
                float[] mm = new float[10 * rows];
                WeightMatrices.matmul(pool, m, x, 10, mm, rows);
                for (int i = 0; i < 10; i++) {
                    for (int r = 0; r < rows; r++) {
                        check(f.values, r, cols, x, i * cols, mm[i * rows + r], dtype + " parallel matmul");
                    }
                }
            }
        }
    }

    @Test
    void readRowIsExactWidening() {
        for (DType dtype : DTYPES) {
            int rows = 6;
            int cols = 45;
            Fixture f = fixture(dtype, rows, cols);
            for (boolean vector : new boolean[] {false, true}) {
                WeightMatrix m = make(dtype, f.seg, rows, cols, vector);
                float[] dst = new float[cols + 2];
                for (int r = 0; r < rows; r++) {
                    m.readRow(r, dst, 2);
                    for (int c = 0; c < cols; c++) {
                        assertEquals(Float.floatToRawIntBits(f.values[r * cols + c]), Float.floatToRawIntBits(dst[2 + c]));
                    }
                }
            }
        }
    }

    /** Every one of the 65536 16-bit patterns, as one [1, 65536] matrix. */
    static MemorySegment allHalfPatterns() {
        MemorySegment seg = ARENA.allocate(2L * 65536 + 1, 16).asSlice(1, 2L * 65536);
        for (int i = 0; i < 65536; i++) {
            seg.set(SHORT_LE, 2L * i, (short) i);
        }
        return seg;
    }

    @Test
    void bf16WideningExactForAllPatterns() {
        MemorySegment seg = allHalfPatterns();
        float[] dst = new float[65536];
        new BF16Matrix(seg, 1, 65536, false).readRow(0, dst, 0);
        for (int i = 0; i < 65536; i++) {
            assertEquals(i << 16, Float.floatToRawIntBits(dst[i]));
            assertEquals(i << 16, Float.floatToRawIntBits(BF16Matrix.toFloat((short) i)));
        }
        // the vector widening (pair layout): lane j of a block holds columns 2j (low) and 2j+1 (high)
        int l = Vectors.L;
        for (long b = 0; b < 65536; b += 2L * l) {
            IntVector w = IntVector.fromMemorySegment(Vectors.I, seg, 2 * b, ByteOrder.LITTLE_ENDIAN);
            float[] lo = Vectors.bf16Low(w).toArray();
            float[] hi = Vectors.bf16High(w).toArray();
            for (int j = 0; j < l; j++) {
                assertEquals((int) (b + 2 * j) << 16, Float.floatToRawIntBits(lo[j]));
                assertEquals((int) (b + 2 * j + 1) << 16, Float.floatToRawIntBits(hi[j]));
            }
        }
        // subnormal / inf / NaN spot checks
        assertEquals(Float.POSITIVE_INFINITY, BF16Matrix.toFloat((short) 0x7F80));
        assertEquals(Float.NEGATIVE_INFINITY, BF16Matrix.toFloat((short) 0xFF80));
        assertTrue(Float.isNaN(BF16Matrix.toFloat((short) 0x7FC0)));
        assertEquals(Float.MIN_VALUE * 65536, BF16Matrix.toFloat((short) 0x0001));
    }

    static void assertSameF16(short h, float actual, String what) {
        float expected = Float.float16ToFloat(h);
        if (Float.isNaN(expected)) {
            assertTrue(Float.isNaN(actual), what + " " + Integer.toHexString(h & 0xFFFF));
            // payload kept (the quiet bit may be set by hardware conversion)
            int mask = ~0x00400000;
            assertEquals(Float.floatToRawIntBits(expected) & mask, Float.floatToRawIntBits(actual) & mask, what);
        } else {
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(actual),
                    what + " " + Integer.toHexString(h & 0xFFFF));
        }
    }

    @Test
    void f16WideningExactForAllPatterns() {
        MemorySegment seg = allHalfPatterns();
        float[] dst = new float[65536];
        new F16Matrix(seg, 1, 65536, false).readRow(0, dst, 0);
        for (int i = 0; i < 65536; i++) {
            assertSameF16((short) i, dst[i], "scalar");
        }
        // the vector path's widening loop (auto-vectorized by C2 once hot): run it hot, then check
        short[] h = new short[65536];
        for (int i = 0; i < 65536; i++) {
            h[i] = (short) i;
        }
        float[] v = new float[65536];
        for (int rep = 0; rep < 200; rep++) {
            F16Matrix.widen(h, v, 0, h.length);
        }
        for (int i = 0; i < 65536; i++) {
            assertSameF16((short) i, v[i], "vector");
        }
        // reference values
        assertEquals(0x1p-24f, Float.float16ToFloat((short) 0x0001));
        assertEquals(65504f, Float.float16ToFloat((short) 0x7BFF));
    }

    @Test
    void vectorWideningInMatvecHandlesSpecials() {
        // subnormals, max, signed zero in BF16/F16 rows; x = 1 on one column, 0 elsewhere is not
        // safe with infinities (0*inf), so use finite specials here
        short[] f16 = {0x0001, (short) 0x8001, 0x03FF, 0x7BFF, (short) 0xFBFF, (short) 0x8000, 0x3C00};
        short[] bf16 = {0x0001, (short) 0x8001, 0x007F, 0x7F7F, (short) 0xFF7F, (short) 0x8000, 0x3F80};
        for (DType dtype : new DType[] {DType.F16, DType.BF16}) {
            short[] pats = dtype == DType.F16 ? f16 : bf16;
            int cols = 3 * (2 * Vectors.L) + 3;
            for (int p = 0; p < pats.length; p++) {
                for (int col : new int[] {0, 1, (2 * Vectors.L) - 1, (2 * Vectors.L), cols - 1}) {
                    MemorySegment seg = ARENA.allocate(2L * cols + 1).asSlice(1, 2L * cols);
                    seg.set(SHORT_LE, 2L * col, pats[p]);
                    float[] x = new float[cols];
                    x[col] = 1f;
                    float expected = dtype == DType.F16 ? Float.float16ToFloat(pats[p]) : BF16Matrix.toFloat(pats[p]);
                    for (boolean vector : new boolean[] {false, true}) {
                        float[] out = new float[1];
                        make(dtype, seg, 1, cols, vector).matvec(x, 0, out, 0, 0, 1);
                        assertEquals(expected, out[0], 0f, dtype + " pattern " + p + " col " + col + " vector=" + vector);
                    }
                }
            }
        }
    }

    @Test
    void infinitiesPropagate() {
        int cols = 40;
        for (DType dtype : DTYPES) {
            MemorySegment seg = ARENA.allocate(4L * cols);
            seg = seg.asSlice(0, (long) dtype.byteSize() * cols);
            switch (dtype) {
                case F32 -> seg.set(FLOAT_LE, 4L * 17, Float.POSITIVE_INFINITY);
                case F16 -> seg.set(SHORT_LE, 2L * 17, (short) 0x7C00);
                default -> seg.set(SHORT_LE, 2L * 17, (short) 0x7F80);
            }
            float[] x = new float[cols];
            java.util.Arrays.fill(x, 1f);
            for (boolean vector : new boolean[] {false, true}) {
                float[] out = new float[1];
                make(dtype, seg, 1, cols, vector).matvec(x, 0, out, 0, 0, 1);
                assertEquals(Float.POSITIVE_INFINITY, out[0], dtype.name());
            }
        }
    }

    @Test
    void factoryValidates() {
        MemorySegment seg = ARENA.allocate(24);
        assertInstanceOf(F32Matrix.class, WeightMatrices.wrap(DType.F32, seg, 2, 3));
        assertInstanceOf(F16Matrix.class, WeightMatrices.wrap(DType.F16, seg, 3, 4));
        assertInstanceOf(BF16Matrix.class, WeightMatrices.wrap(DType.BF16, seg, 4, 3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WeightMatrices.wrap(DType.F32, seg, 2, 4));
        assertTrue(e.getMessage().contains("24"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WeightMatrices.wrap(DType.I32, seg, 2, 3));
        assertThrows(IllegalArgumentException.class, () -> WeightMatrices.wrap(null, seg, 2, 3));
        assertThrows(IllegalArgumentException.class, () -> WeightMatrices.wrap(DType.F16, seg, -1, -12));
        WeightMatrix m = WeightMatrices.wrap(DType.F32, seg, 2, 3);
        assertThrows(IndexOutOfBoundsException.class, () -> m.matvec(new float[3], 0, new float[2], 0, 0, 3));
        assertThrows(IndexOutOfBoundsException.class, () -> m.readRow(2, new float[3], 0));
        // read-only: the matrix never writes
        assertTrue(((SegmentMatrix) m).segment().isReadOnly());
    }

    @Test
    void ofFloatsHeapMatrix() {
        int rows = 7;
        int cols = 19;
        float[] w = rand(rows * cols);
        WeightMatrix m = WeightMatrices.ofFloats(w, rows, cols);
        assertEquals(DType.F32, m.dtype());
        float[] x = rand(cols);
        float[] out = new float[rows];
        m.matvec(x, 0, out, 0, 0, rows);
        for (int r = 0; r < rows; r++) {
            check(w, r, cols, x, 0, out[r], "ofFloats");
        }
        float[] mm = new float[2 * rows];
        float[] x2 = rand(2 * cols);
        m.matmul(x2, 2, mm, rows, 0, rows);
        for (int r = 0; r < rows; r++) {
            check(w, r, cols, x2, 0, mm[r], "ofFloats matmul");
            check(w, r, cols, x2, cols, mm[rows + r], "ofFloats matmul");
        }
        assertThrows(IllegalArgumentException.class, () -> WeightMatrices.ofFloats(w, rows, cols + 1));
    }
}

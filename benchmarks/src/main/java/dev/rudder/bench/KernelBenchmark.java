package dev.rudder.bench;

import dev.rudder.runtime.kernel.Kernels;
import dev.rudder.runtime.parallel.WorkerPool;
import dev.rudder.runtime.tensor.WeightMatrices;
import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.tensor.BlockQuantizer;
import dev.rudder.runtime.tensor.WeightMatrix;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Kernel micro-benchmarks at SmolLM2-135M shapes (hidden 576, intermediate 1536, vocab 49152) and, for
 * matvec, Llama-3.2-1B shapes (hidden 2048, intermediate 8192, vocab 128256: the tied output matrix
 * is 525 MB in BF16, so two copies take 1 GB; pick shapes with {@code -p shape=...}).
 *
 * <ul>
 * <li>{@code matvec} (decode, memory bound): one {@code [rows, cols]} matrix times a vector,
 * rows split over the worker pool. Unless {@code resident=true}, the benchmark rotates through
 * enough copies of the matrix (&ge; 192 MB) that every call streams its weights from DRAM, as in a
 * real decode step. <b>GB/s = ops/s &times; rows &times; cols &times; bytes per element</b> (BF16: 2,
 * F32: 4), e.g. BF16 1536x576 is 1.769 MB per op, 49152x576 is 56.6 MB per op.</li>
 * <li>{@code matmul} (prefill, compute bound): {@code batch} input rows at once.
 * <b>GFLOP/s = ops/s &times; 2 &times; rows &times; cols &times; batch / 1e9</b>.</li>
 * <li>{@code residualAdd}: the fused steering seam over 576 floats, with and without steer/probe.</li>
 * </ul>
 *
 * <pre>
 * mvn -B -q -Drudder.target=target-krn -pl benchmarks -am package -DskipTests
 * java --add-modules jdk.incubator.vector -jar benchmarks/target-krn/benchmarks.jar KernelBenchmark -f 1 -wi 3 -i 5 -w 1 -r 1
 * java --add-modules jdk.incubator.vector -jar benchmarks/target-krn/benchmarks.jar 'KernelBenchmark.matvec' \
 *     -p dtype=Q4_K,Q6_K -p shape=2048x8192,128256x2048 -p threads=1
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
public class KernelBenchmark {

    static final long COLD_BYTES = 192L << 20;

    static MemorySegment randomWeights(Arena arena, String dtype, int rows, int cols, long seed) {
        if (dtype.endsWith("_K")) {
            return randomKBlocks(arena, dtype, rows, cols, seed);
        }
        if (DType.valueOf(dtype).isQuantized()) {
            // ggml blocks of random float rows, as `rudder quantize` writes them (Q8_0, Q4_0)
            long rowBytes = BlockQuantizer.bytes(dtype, cols);
            MemorySegment q = arena.allocate(rows * rowBytes + 1, 64).asSlice(1, rows * rowBytes);
            Random rnd = new Random(seed);
            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    row[c] = (float) (rnd.nextGaussian() * 0.02);
                }
                BlockQuantizer.quantize(dtype, row, 0, cols, q, r * rowBytes);
            }
            return q;
        }
        int eb = DType.valueOf(dtype).byteSize();
        long n = (long) rows * cols;
        // +1 byte and slice: weights in safetensors files need not be aligned
        MemorySegment seg = arena.allocate(n * eb + 1, 64).asSlice(1, n * eb);
        Random rnd = new Random(seed);
        ValueLayout.OfShort s = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        ValueLayout.OfFloat f = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) {
            float v = (float) (rnd.nextGaussian() * 0.02);
            switch (dtype) {
                case "F32" -> seg.set(f, 4 * i, v);
                case "F16" -> seg.set(s, 2 * i, Float.floatToFloat16(v));
                default -> seg.set(s, 2 * i, (short) (Float.floatToRawIntBits(v) >>> 16));
            }
        }
        return seg;
    }

    /**
     * K-quant super-blocks (Q4_K, Q5_K, Q6_K; `rudder quantize` does not write them): random quant and scale bytes,
     * every block's f16 d (and dmin) 0.001, so the kernels do the same work as on a llama-quantize file.
     */
    static MemorySegment randomKBlocks(Arena arena, String dtype, int rows, int cols, long seed) {
        int blockBytes;
        int[] f16s;   // byte offsets of the block's f16 factors
        switch (dtype) {
            case "Q4_K" -> { blockBytes = 144; f16s = new int[] {0, 2}; }
            case "Q5_K" -> { blockBytes = 176; f16s = new int[] {0, 2}; }
            case "Q6_K" -> { blockBytes = 210; f16s = new int[] {208}; }
            default -> throw new IllegalArgumentException("no random blocks for " + dtype);
        }
        long bytes = DType.valueOf(dtype).bytesFor((long) rows * cols);
        MemorySegment q = arena.allocate(bytes + 1, 64).asSlice(1, bytes);
        Random rnd = new Random(seed);
        byte[] chunk = new byte[1 << 16];
        for (long o = 0; o < bytes; o += chunk.length) {
            rnd.nextBytes(chunk);
            MemorySegment.copy(chunk, 0, q, ValueLayout.JAVA_BYTE, o, (int) Math.min(chunk.length, bytes - o));
        }
        ValueLayout.OfShort f16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (long b = 0; b < bytes / blockBytes; b++) {
            for (int off : f16s) {
                q.set(f16, b * blockBytes + off, Float.floatToFloat16(0.001f));
            }
        }
        return q;
    }

    @State(Scope.Benchmark)
    public static class MatvecState {
        @Param({"576x576", "1536x576", "576x1536", "49152x576", "8192x2048", "2048x8192", "128256x2048"})
        public String shape;
        @Param({"BF16", "F32", "Q8_0", "Q4_0"})   // also Q4_K, Q5_K, Q6_K at the 1B shapes (columns a multiple of 256)
        public String dtype;
        @Param({"1", "2"})
        public int threads;
        @Param({"false"})
        public boolean resident;

        Arena arena;
        WeightMatrix[] copies;
        int next;
        WeightMatrix current;
        WorkerPool pool;
        float[] x;
        float[] out;
        WorkerPool.RangeTask task;

        @Setup(Level.Trial)
        public void setup() {
            String[] rc = shape.split("x");
            int rows = Integer.parseInt(rc[0]);
            int cols = Integer.parseInt(rc[1]);
            long bytes = DType.valueOf(dtype).bytesFor((long) rows * cols);
            int n = resident ? 1 : (int) Math.max(2, (COLD_BYTES + bytes - 1) / bytes);
            arena = Arena.ofShared();
            copies = new WeightMatrix[n];
            MemorySegment first = randomWeights(arena, dtype, rows, cols, 1);
            for (int i = 0; i < n; i++) {
                MemorySegment seg = first;
                if (i > 0) {
                    seg = arena.allocate(bytes + 1, 64).asSlice(1, bytes);
                    seg.copyFrom(first);
                }
                copies[i] = WeightMatrices.wrap(DType.valueOf(dtype), seg, rows, cols);
            }
            pool = new WorkerPool(threads);
            x = new float[cols];
            Random rnd = new Random(2);
            for (int i = 0; i < cols; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            out = new float[rows];
            task = (s, e) -> current.matvec(x, 0, out, 0, s, e);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            pool.close();
            arena.close();
        }
    }

    @Benchmark
    public float matvec(MatvecState st) {
        WeightMatrix m = st.copies[st.next];
        st.next = st.next + 1 == st.copies.length ? 0 : st.next + 1;
        st.current = m;
        st.pool.parallelFor(m.rows(), 4, st.task);
        return st.out[0];
    }

    @State(Scope.Benchmark)
    public static class MatmulState {
        @Param({"576x576", "1536x576", "576x1536"})
        public String shape;
        @Param({"BF16"})
        public String dtype;
        @Param({"1", "2"})
        public int threads;
        @Param({"128"})
        public int batch;

        Arena arena;
        WeightMatrix m;
        WorkerPool pool;
        float[] x;
        float[] out;
        WorkerPool.RangeTask task;

        @Setup(Level.Trial)
        public void setup() {
            String[] rc = shape.split("x");
            int rows = Integer.parseInt(rc[0]);
            int cols = Integer.parseInt(rc[1]);
            arena = Arena.ofShared();
            m = WeightMatrices.wrap(DType.valueOf(dtype), randomWeights(arena, dtype, rows, cols, 3), rows, cols);
            pool = new WorkerPool(threads);
            x = new float[batch * cols];
            Random rnd = new Random(4);
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            out = new float[batch * rows];
            task = (s, e) -> m.matmul(x, batch, out, rows, s, e);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            pool.close();
            arena.close();
        }
    }

    @Benchmark
    public float matmul(MatmulState st) {
        st.pool.parallelFor(st.m.rows(), 4, st.task);
        return st.out[0];
    }

    @State(Scope.Thread)
    public static class ResidualState {
        @Param({"false", "true"})
        public boolean steer;
        @Param({"false", "true"})
        public boolean probe;

        final Kernels k = Kernels.get();
        float[] x;
        float[] delta;
        float[] v;
        float[] w;

        @Setup(Level.Trial)
        public void setup() {
            int n = 576;
            Random rnd = new Random(5);
            x = new float[n];
            delta = new float[n];
            float[] sv = new float[n];
            float[] pv = new float[n];
            for (int i = 0; i < n; i++) {
                delta[i] = (float) rnd.nextGaussian() * 1e-3f;
                sv[i] = (float) rnd.nextGaussian() * 1e-3f;
                pv[i] = (float) rnd.nextGaussian();
            }
            v = steer ? sv : null;
            w = probe ? pv : null;
        }
    }

    @Benchmark
    public float residualAdd(ResidualState st) {
        return st.k.residualAdd(st.x, 0, st.delta, 0, st.v, 0.5f, st.w, st.x.length);
    }
}

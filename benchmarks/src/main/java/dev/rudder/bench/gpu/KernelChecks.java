package dev.rudder.bench.gpu;

import dev.rudder.runtime.cuda.CudaGpu;
import dev.rudder.runtime.cuda.Gpu;
import dev.rudder.runtime.cuda.Kernel;
import dev.rudder.runtime.cuda.KernelArgs;
import dev.rudder.runtime.cuda.LaunchGeometry;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Single kernels against plain Java references on odd sizes, before the model checks: when a
 * golden case fails on the first GPU run, these say which kernel is wrong.
 */
final class KernelChecks {
    private final CudaGpu gpu;
    private final GpuCheck.Report report;
    private final Random random = new Random(11);

    KernelChecks(CudaGpu gpu, GpuCheck.Report report) {
        this.gpu = gpu;
        this.report = report;
    }

    void run() {
        for (String type : new String[] {"f32", "bf16", "f16"}) {
            for (int[] shape : new int[][] {{1000, 4096}, {37, 172}, {5, 8}}) {
                // the aligned kernel where rows are whole 16-byte loads (the backend's choice), the other everywhere
                for (String k : new String[] {"matvec_" + type, "matvec_" + type + "_unaligned"}) {
                    if (k.endsWith("_unaligned") || shape[1] * (type.equals("f32") ? 4 : 2) % 16 == 0) {
                        report.guard("kernel " + k + " " + shape[0] + "x" + shape[1], () -> matvec(k, type, shape[0], shape[1], 3));
                    }
                }
            }
        }
        for (String type : new String[] {"bf16", "f16"}) {
            for (int[] s : new int[][] {{77, 300, 200}, {128, 128, 4096}, {3, 65, 64}}) {
                report.guard("kernel matmul_tc_" + type + " n=" + s[0] + " " + s[1] + "x" + s[2], () -> matmul(type, s[0], s[1], s[2]));
            }
        }
        report.guard("kernel argmax", this::argmax);
    }

    private float[] gaussian(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return v;
    }

    /** Stores {@code w} as {@code type} (rounding to it) and returns the values the GPU will see. */
    private static float[] store(String type, float[] w, MemorySegment dst) {
        float[] seen = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            switch (type) {
                case "f32" -> {
                    dst.setAtIndex(JAVA_FLOAT, i, w[i]);
                    seen[i] = w[i];
                }
                case "bf16" -> {
                    short b = (short) (Float.floatToRawIntBits(w[i]) >>> 16);
                    dst.setAtIndex(JAVA_SHORT, i, b);
                    seen[i] = Float.intBitsToFloat((b & 0xffff) << 16);
                }
                default -> {
                    short h = Float.floatToFloat16(w[i]);
                    dst.setAtIndex(JAVA_SHORT, i, h);
                    seen[i] = Float.float16ToFloat(h);
                }
            }
        }
        return seen;
    }

    private static Kernel kernel(String prefix, String type) {
        return Kernel.valueOf((prefix + type).toUpperCase(java.util.Locale.ROOT));
    }

    /** y[v] = W x[v] for {@code vectors} input vectors; relative error vs a double reference. */
    private void matvec(String kernel, String type, int rows, int cols, int vectors) {
        int eb = type.equals("f32") ? 4 : 2;
        try (Arena a = Arena.ofConfined(); Gpu.Queue q = gpu.newQueue()) {
            MemorySegment hw = a.allocate((long) rows * cols * eb, 16);
            float[] w = store(type, gaussian(rows * cols), hw);
            float[] x = gaussian(vectors * cols);
            float[] bias = gaussian(rows);
            long dw = gpu.allocate(hw.byteSize(), "W"), dx = gpu.allocate(4L * x.length, "x");
            long dy = gpu.allocate(4L * vectors * rows, "y"), db = gpu.allocate(4L * rows, "bias");
            try {
                q.upload(hw, dw);
                q.upload(a.allocateFrom(JAVA_FLOAT, x), dx);
                q.upload(a.allocateFrom(JAVA_FLOAT, bias), db);
                KernelArgs args = new KernelArgs(a).ptr(dw).ptr(dx).i32(cols).ptr(dy).i32(rows).ptr(db).i32(rows).i32(cols);
                q.launch(kernel(kernel, ""), LaunchGeometry.warpRows(rows, 8, 1, vectors), args);
                MemorySegment hy = a.allocate(4L * vectors * rows);
                q.download(dy, hy);
                double worst = 0;
                for (int v = 0; v < vectors; v++) {
                    for (int r = 0; r < rows; r++) {
                        double ref = bias[r], mag = Math.abs(bias[r]);
                        for (int c = 0; c < cols; c++) {
                            ref += (double) w[r * cols + c] * x[v * cols + c];
                            mag += Math.abs((double) w[r * cols + c] * x[v * cols + c]);
                        }
                        worst = Math.max(worst, Math.abs(hy.getAtIndex(JAVA_FLOAT, (long) v * rows + r) - ref) / mag);
                    }
                }
                report.check(worst < 1e-5, String.format("kernel %s %dx%d x%d: max error / sum|terms| %.1e", kernel, rows, cols, vectors, worst));
            } finally {
                for (long p : new long[] {dw, dx, dy, db}) {
                    gpu.free(p);
                }
            }
        }
    }

    /** Y = X W^T on tensor cores (hi/lo split activations) vs a double reference. */
    private void matmul(String type, int n, int rows, int cols) {
        try (Arena a = Arena.ofConfined(); Gpu.Queue q = gpu.newQueue()) {
            MemorySegment hw = a.allocate((long) rows * cols * 2, 16);
            float[] w = store(type, gaussian(rows * cols), hw);
            float[] x = gaussian(n * cols);
            long dw = gpu.allocate(hw.byteSize(), "W"), dx = gpu.allocate(4L * x.length, "X"), dy = gpu.allocate(4L * n * rows, "Y");
            try {
                q.upload(hw, dw);
                q.upload(a.allocateFrom(JAVA_FLOAT, x), dx);
                KernelArgs args = new KernelArgs(a).ptr(dx).ptr(dw).ptr(dy).i32(rows).ptr(0).i32(n).i32(rows).i32(cols);
                q.launch(kernel("matmul_tc_", type), LaunchGeometry.tiles(n, rows, 64, 64, 128), args);
                MemorySegment hy = a.allocate(4L * n * rows);
                q.download(dy, hy);
                double worst = 0;
                for (int i = 0; i < n; i++) {
                    for (int r = 0; r < rows; r++) {
                        double ref = 0, mag = 0;
                        for (int c = 0; c < cols; c++) {
                            ref += (double) w[r * cols + c] * x[i * cols + c];
                            mag += Math.abs((double) w[r * cols + c] * x[i * cols + c]);
                        }
                        worst = Math.max(worst, Math.abs(hy.getAtIndex(JAVA_FLOAT, (long) i * rows + r) - ref) / mag);
                    }
                }
                report.check(worst < 2e-5, String.format("kernel matmul_tc_%s n=%d %dx%d: max error / sum|terms| %.1e", type, n, rows, cols, worst));
            } finally {
                for (long p : new long[] {dw, dx, dy}) {
                    gpu.free(p);
                }
            }
        }
    }

    private void argmax() {
        int n = 100_003;
        float[] v = gaussian(n);
        v[77_777] = 9f;
        v[88_888] = 9f;   // a tie: the lower index wins
        try (Arena a = Arena.ofConfined(); Gpu.Queue q = gpu.newQueue()) {
            long dv = gpu.allocate(4L * n, "v"), dout = gpu.allocate(4, "out");
            try {
                q.upload(a.allocateFrom(JAVA_FLOAT, v), dv);
                q.launch(Kernel.ARGMAX, LaunchGeometry.of(1, 1024), new KernelArgs(a).ptr(dv).i32(n).ptr(dout));
                MemorySegment out = a.allocate(JAVA_INT);
                q.download(dout, out);
                report.check(out.get(JAVA_INT, 0) == 77_777, "kernel argmax: " + out.get(JAVA_INT, 0) + " (want 77777)");
            } finally {
                gpu.free(dv);
                gpu.free(dout);
            }
        }
    }
}

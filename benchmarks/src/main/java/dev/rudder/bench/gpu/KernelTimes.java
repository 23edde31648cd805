package dev.rudder.bench.gpu;

import dev.rudder.runtime.cuda.CudaDevice;
import dev.rudder.runtime.cuda.CudaEvent;
import dev.rudder.runtime.cuda.CudaFunction;
import dev.rudder.runtime.cuda.CudaModule;
import dev.rudder.runtime.cuda.CudaStream;
import dev.rudder.runtime.cuda.DeviceBuffer;
import dev.rudder.runtime.cuda.KernelArgs;
import dev.rudder.runtime.cuda.LaunchGeometry;
import dev.rudder.runtime.cuda.PtxSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * GPU time of the decode matrix-vector kernels at the shapes a decode step runs (Llama-2-7B and
 * Llama-3.2-1B, BF16), as bytes of weights per second, and the host's cost per kernel launch:
 * together they say whether a decode step is bound by the kernels, the launches, or neither.
 * Each launch reads a different region of a 2 GiB buffer, so weights come from memory, not from
 * the L2 (60 MB on an H200), as in a real decode step. {@code --kernel-times [PTX]} in GpuCheck;
 * a PTX file of variant kernels (same parameters as matvec_bf16 / matvec_swiglu_bf16, entry
 * names starting {@code mv_} / {@code sw_}) is timed beside the committed ones.
 */
final class KernelTimes {
    private static final long POOL = 2L << 30;   // weights are read from here, a new region per launch
    private static final int LAUNCHES = 30;

    private record Shape(String name, int rows, int cols, boolean swiglu) {
        long weightBytes() {
            return 2L * rows * cols * (swiglu ? 2 : 1);
        }
    }

    private static final List<Shape> SHAPES = List.of(
            new Shape("7B q|k|v", 12288, 4096, false), new Shape("7B o", 4096, 4096, false),
            new Shape("7B gate|up+silu", 11008, 4096, true), new Shape("7B down", 4096, 11008, false),
            new Shape("7B lm head", 32000, 4096, false),
            new Shape("1B q|k|v", 3072, 2048, false), new Shape("1B o", 2048, 2048, false),
            new Shape("1B gate|up+silu", 8192, 2048, true), new Shape("1B down", 2048, 8192, false),
            new Shape("1B lm head", 128256, 2048, false));

    private KernelTimes() {
    }

    static void run(CudaDevice dev, Path variants) throws IOException {
        List<CudaModule> modules = new ArrayList<>();
        List<CudaFunction> matvecs = new ArrayList<>();
        List<CudaFunction> swiglus = new ArrayList<>();
        CudaModule base = dev.loadModule("matvec", PtxSource.read("matvec"));
        modules.add(base);
        matvecs.add(base.function("matvec_bf16"));
        swiglus.add(base.function("matvec_swiglu_bf16"));
        if (variants != null) {
            String ptx = Files.readString(variants, StandardCharsets.UTF_8);
            CudaModule v = dev.loadModule("variants", ptx);
            modules.add(v);
            for (String line : ptx.split("\n")) {
                if (line.startsWith(".visible .entry ")) {
                    String entry = line.substring(".visible .entry ".length(), line.indexOf('('));
                    if (entry.startsWith("mv_")) {
                        matvecs.add(v.function(entry));
                    } else if (entry.startsWith("sw_")) {
                        swiglus.add(v.function(entry));
                    }
                }
            }
            matvecs.add(matvecs.getFirst());   // the committed kernels again, last: an order effect shows as a difference
            swiglus.add(swiglus.getFirst());
        }
        try (Arena arena = Arena.ofConfined(); DeviceBuffer pool = dev.allocate(POOL); DeviceBuffer x = dev.allocate(4L * 16384);
             DeviceBuffer y = dev.allocate(4L * 131072); CudaStream s = dev.newStream();
             CudaEvent start = dev.newEvent(); CudaEvent end = dev.newEvent()) {
            pool.fill32Async(0, POOL / 4, 0x3c003c00, s);   // bf16 pairs of 0.0078: finite sums
            x.fill32Async(0, 16384, 0x3f800000, s);
            s.synchronize();
            KernelArgs args = new KernelArgs(arena);
            System.out.println("decode kernel GPU times (BF16 weights, one vector, each launch on weights not in L2):");
            for (Shape sh : SHAPES) {
                for (CudaFunction f : sh.swiglu ? swiglus : matvecs) {
                    StringBuilder line = new StringBuilder(String.format("  %-16s %6dx%-6d %-20s", sh.name, sh.rows, sh.cols, f.name()));
                    for (int warps : new int[] {4, 8, 16}) {
                        LaunchGeometry g = LaunchGeometry.warpRows(sh.rows, warps, 1, 1);
                        long offset = 0;
                        for (int i = 0; i < LAUNCHES + 3; i++) {
                            if (i == 3) {
                                start.record(s);
                            }
                            if (offset + sh.weightBytes() > POOL) {
                                offset = 0;
                            }
                            if (sh.swiglu) {   // (W, x, xs, h, bias, inter, cols)
                                args.clear().ptr(pool.at(offset)).ptr(x).i32(sh.cols).ptr(y).ptr(0L).i32(sh.rows).i32(sh.cols);
                            } else {           // (W, x, xs, y, ys, bias, rows, cols)
                                args.clear().ptr(pool.at(offset)).ptr(x).i32(sh.cols).ptr(y).i32(sh.rows).ptr(0L)
                                        .i32(sh.rows).i32(sh.cols);
                            }
                            s.launch(f, g, args);
                            offset += (sh.weightBytes() + 4095) / 4096 * 4096;
                        }
                        end.record(s);
                        end.synchronize();
                        double us = end.millisSince(start) * 1e3 / LAUNCHES;
                        line.append(String.format("  %2d warps %7.1f us %5.0f GB/s", warps, us, sh.weightBytes() / us / 1e3));
                    }
                    System.out.println(line);
                }
            }
            // host cost of one launch: a small kernel the GPU finishes faster than the host issues it
            CudaFunction small = matvecs.getFirst();
            LaunchGeometry g = LaunchGeometry.warpRows(64, 8, 1, 1);
            double best = Double.MAX_VALUE;
            for (int round = 0; round < 5; round++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < 2000; i++) {
                    args.clear().ptr(pool).ptr(x).i32(64).ptr(y).i32(64).ptr(0L).i32(64).i32(64);
                    s.launch(small, g, args);
                }
                long t1 = System.nanoTime();
                s.synchronize();
                best = Math.min(best, (t1 - t0) / 2000.0 / 1e3);
            }
            System.out.printf("host time per kernel launch (cuLaunchKernel from Java, best of 5 x 2000): %.2f us%n", best);
        } finally {
            modules.forEach(CudaModule::close);
        }
    }
}

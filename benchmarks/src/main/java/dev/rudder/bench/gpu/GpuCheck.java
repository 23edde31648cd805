package dev.rudder.bench.gpu;

import dev.rudder.runtime.backend.cpu.CpuBackend;
import dev.rudder.runtime.cuda.CudaBackend;
import dev.rudder.runtime.cuda.CudaDriver;
import dev.rudder.runtime.cuda.CudaGpu;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The GPU check of issue 9 in one run (benchmarks/gpu-check.sh runs it on a machine with an
 * NVIDIA GPU, from the folder benchmarks/gpu-prepare.sh made): every golden logits and steering
 * case on the CUDA backend, plan identities (empty plan and closed gate = plain model, bit for
 * bit), CUDA vs CPU with an open gate, then decode/prefill speed on random checkpoints in real
 * model shapes, with decode as a fraction of memory bandwidth and the steering/gate overhead.
 * Prints one line per check; exits 1 if any check failed.
 *
 * <pre>GpuCheck --data DIR [--work DIR] [--device N] [--shapes a,b,c] [--no-speed] [--no-golden] [--profile] [--cpu] [--kernel-times [PTX]]</pre>
 * DIR holds {@code models/} and {@code golden/} laid out as in {@code ../shared}. {@code --cpu}
 * runs the correctness checks on the CPU backend instead (no GPU needed): it checks this harness
 * and a prepared data folder. {@code --kernel-times} times the decode kernels alone (and the
 * variant kernels of a PTX file, when given) instead of the checks: see {@link KernelTimes}.
 */
public final class GpuCheck {
    private GpuCheck() {
    }

    public static void main(String[] args) throws Exception {
        Path data = null;
        Path work = Path.of(System.getProperty("java.io.tmpdir"), "rudder-gpu-check");
        int device = 0;
        List<String> shapes = List.of("smollm2-135m", "llama-3.2-1b", "llama-2-7b");
        boolean speed = true;
        boolean cpu = false;
        boolean kernelTimes = false;
        boolean golden = true;
        boolean profile = false;
        Path variants = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--data" -> data = Path.of(args[++i]);
                case "--work" -> work = Path.of(args[++i]);
                case "--device" -> device = Integer.parseInt(args[++i]);
                case "--shapes" -> shapes = List.of(args[++i].split(","));
                case "--no-speed" -> speed = false;
                case "--cpu" -> cpu = true;
                case "--no-golden" -> golden = false;
                case "--profile" -> profile = true;
                case "--kernel-times" -> {
                    kernelTimes = true;
                    if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
                        variants = Path.of(args[++i]);
                    }
                }
                default -> {
                    System.err.println("usage: GpuCheck --data DIR [--work DIR] [--device N] [--shapes a,b,c] [--no-speed] [--no-golden] [--profile] [--cpu] [--kernel-times [PTX]]");
                    System.exit(2);
                }
            }
        }
        if (data == null) {
            System.err.println("GpuCheck: --data DIR is required");
            System.exit(2);
        }
        Report report = new Report();
        long t0 = System.nanoTime();
        if (cpu) {
            System.out.println("correctness checks on the CPU backend (--cpu): checks the harness and the data, not a GPU");
            new GoldenChecks(data, CpuBackend::new, report).run();
            if (speed) {
                System.out.println("speed harness on the CPU, tiny shape (figures mean nothing here)");
                new SpeedChecks(work, CpuBackend::new, report, 0, 0).run(List.of("tiny"));
            }
            finish(report, t0);
        }
        CudaDriver.Loaded l = CudaDriver.load();
        if (l.driver() == null) {
            System.out.println("FAIL no GPU: " + l.problem());
            System.exit(1);
        }
        System.out.println("driver version " + l.driver().driverVersion() + ", " + l.driver().deviceCount() + " GPU(s)");
        double nominal;
        double measured;
        try (CudaGpu gpu = CudaGpu.open(device)) {
            System.out.println("device " + gpu.describe());
            if (kernelTimes) {
                KernelTimes.run(gpu.device(), variants);
                System.exit(0);
            }
            nominal = gpu.device().nominalBandwidth();
            measured = Bandwidth.deviceCopy(gpu.device());
            System.out.printf("memory bandwidth: nominal %.0f GB/s (clock x bus width), device-to-device copy %.0f GB/s%n",
                    nominal / 1e9, measured / 1e9);
            new KernelChecks(gpu, report).run();
        }
        String override = System.getenv("RUDDER_GPU_BANDWIDTH_GBS");
        if (override != null) {
            nominal = Double.parseDouble(override) * 1e9;
            System.out.printf("memory bandwidth: using %.0f GB/s from RUDDER_GPU_BANDWIDTH_GBS%n", nominal / 1e9);
        }
        if (golden) {
            new GoldenChecks(data, CudaBackend.factory(device), report).run();
        }
        System.out.printf("correctness checks done in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        if (speed) {
            new SpeedChecks(work, CudaBackend.factory(device), report, nominal, measured).profiled(profile).run(shapes);
        }
        finish(report, t0);
    }

    private static void finish(Report report, long t0) {
        System.out.printf("%n%d checks passed, %d failed, %.1f s in all%n", report.passed, report.failed.size(),
                (System.nanoTime() - t0) / 1e9);
        report.failed.forEach(f -> System.out.println("  FAILED: " + f));
        System.exit(report.failed.isEmpty() ? 0 : 1);
    }

    /** Pass/fail lines and the tally. */
    static final class Report {
        int passed;
        final List<String> failed = new ArrayList<>();

        void check(boolean ok, String what) {
            System.out.println((ok ? "PASS " : "FAIL ") + what);
            if (ok) {
                passed++;
            } else {
                failed.add(what);
            }
        }

        /** Runs {@code body}; an exception fails the check {@code what} with its message. */
        void guard(String what, ThrowingRunnable body) {
            try {
                body.run();
            } catch (Throwable t) {
                check(false, what + ": " + t);
                t.printStackTrace(System.out);
            }
        }
    }

    @FunctionalInterface
    interface ThrowingRunnable {
        void run() throws Exception;
    }
}

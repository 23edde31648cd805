package dev.rudder.runtime.cuda;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.backend.Backend;
import dev.rudder.runtime.backend.cpu.CpuBackend;

import java.util.function.Consumer;

/**
 * Where a model runs, as {@code --device} spells it: {@code cpu}, {@code cuda} (= cuda:0),
 * {@code cuda:N}, or {@code auto} (the first GPU when a usable one exists, else the CPU).
 *
 * @param kind    what was asked for
 * @param ordinal the GPU index for {@link Kind#CUDA}, else -1
 */
public record DeviceChoice(Kind kind, int ordinal) {

    public enum Kind { CPU, CUDA, AUTO }

    public static final DeviceChoice CPU = new DeviceChoice(Kind.CPU, -1);
    public static final DeviceChoice AUTO = new DeviceChoice(Kind.AUTO, -1);

    /** Parses a {@code --device} value; bad spellings are a {@link BadInputException} listing the choices. */
    public static DeviceChoice parse(String text) {
        String s = text == null ? "" : text.strip().toLowerCase(java.util.Locale.ROOT);
        switch (s) {
            case "cpu" -> {
                return CPU;
            }
            case "auto" -> {
                return AUTO;
            }
            case "cuda", "gpu" -> {
                return new DeviceChoice(Kind.CUDA, 0);
            }
            default -> {
                if (s.startsWith("cuda:")) {
                    try {
                        int n = Integer.parseInt(s.substring(5));
                        if (n >= 0) {
                            return new DeviceChoice(Kind.CUDA, n);
                        }
                    } catch (NumberFormatException e) {
                        // fall through to the error
                    }
                }
                throw new BadInputException("--device: '" + text + "' is not one of cpu, cuda, cuda:N, auto");
            }
        }
    }

    /**
     * What this choice comes to on this machine: {@link #CPU} or a {@code CUDA} choice with a
     * device index. {@code cuda}/{@code cuda:N} without a usable driver or GPU throws a
     * {@link CudaException} saying why; {@code auto} then falls back to the CPU and passes one
     * line saying why to {@code note}.
     */
    public DeviceChoice resolve(Consumer<String> note) {
        return switch (kind) {
            case CPU -> this;
            case CUDA -> {
                CudaDriver d = CudaDriver.require();
                int n = d.deviceCount();
                if (n == 0) {
                    throw new CudaException("--device " + this + ": no CUDA GPU found (the NVIDIA driver sees 0 devices)");
                }
                if (ordinal >= n) {
                    throw new CudaException("--device " + this + ": the driver sees " + n + " GPU(s) (cuda:0.." + (n - 1) + ")");
                }
                yield this;
            }
            case AUTO -> {
                CudaDriver.Loaded l = CudaDriver.load();
                String why = l.problem();
                if (why == null) {
                    try {
                        if (l.driver().deviceCount() > 0) {
                            yield new DeviceChoice(Kind.CUDA, 0);
                        }
                        why = "no CUDA GPU found";
                    } catch (CudaException e) {
                        why = e.getMessage();
                    }
                }
                note.accept("--device auto: running on the CPU: " + why);
                yield CPU;
            }
        };
    }

    /**
     * The backend this choice runs on, after {@link #resolve}: the CPU backend, or the CUDA
     * backend on GPU {@link #ordinal()}.
     */
    public Backend.Factory backend() {
        return switch (kind) {
            case CPU -> CpuBackend::new;
            case CUDA -> CudaBackend.factory(ordinal);
            case AUTO -> throw new IllegalStateException("resolve --device auto first");
        };
    }

    public boolean isCuda() {
        return kind == Kind.CUDA;
    }

    @Override
    public String toString() {
        return switch (kind) {
            case CPU -> "cpu";
            case AUTO -> "auto";
            case CUDA -> "cuda:" + ordinal;
        };
    }
}

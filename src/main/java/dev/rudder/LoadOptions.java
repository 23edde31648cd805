package dev.rudder;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.cuda.DeviceChoice;
import dev.rudder.runtime.parallel.WorkerPool;
import dev.rudder.steering.delta.DeltaSet;

import java.util.List;

/**
 * How {@link Rudder#load(java.nio.file.Path, LoadOptions)} loads a model folder.
 *
 * @param threads worker threads for the forward pass (at least 1)
 * @param deltas  alignment vectors merged as {@code W + lambda * delta} at load, in this order
 * @param device  where the model runs: cpu, cuda:N or auto ({@code --device})
 */
public record LoadOptions(int threads, List<DeltaSet.Spec> deltas, DeviceChoice device) {
    public LoadOptions {
        if (threads < 1) {
            throw new BadInputException("threads must be at least 1, got " + threads);
        }
        deltas = List.copyOf(deltas);
        device = device == null ? DeviceChoice.CPU : device;
    }

    /** On the CPU. */
    public LoadOptions(int threads, List<DeltaSet.Spec> deltas) {
        this(threads, deltas, DeviceChoice.CPU);
    }

    /** All processors, no deltas, on the CPU. */
    public static LoadOptions defaults() {
        return new LoadOptions(WorkerPool.defaultThreads(), List.of());
    }

    public LoadOptions withDevice(DeviceChoice d) {
        return new LoadOptions(threads, deltas, d);
    }

    public LoadOptions withThreads(int n) {
        return new LoadOptions(n, deltas, device);
    }

    public LoadOptions withDeltas(List<DeltaSet.Spec> specs) {
        return new LoadOptions(threads, specs, device);
    }
}

package dev.rudder;

import dev.rudder.runtime.parallel.WorkerPool;
import dev.rudder.steering.delta.DeltaSet;

import java.util.List;

/**
 * How {@link Rudder#load(java.nio.file.Path, LoadOptions)} loads a model folder.
 *
 * @param threads worker threads for the forward pass (at least 1)
 * @param deltas  alignment vectors merged as {@code W + lambda * delta} at load, in this order
 */
public record LoadOptions(int threads, List<DeltaSet.Spec> deltas) {
    public LoadOptions {
        deltas = List.copyOf(deltas);
    }

    /** All processors, no deltas. */
    public static LoadOptions defaults() {
        return new LoadOptions(WorkerPool.defaultThreads(), List.of());
    }

    public LoadOptions withThreads(int n) {
        return new LoadOptions(n, deltas);
    }

    public LoadOptions withDeltas(List<DeltaSet.Spec> specs) {
        return new LoadOptions(threads, specs);
    }
}

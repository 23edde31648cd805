package dev.rudder;

import dev.rudder.runtime.parallel.WorkerPool;
import dev.rudder.steering.delta.DeltaSet;

import java.util.List;

/**
 * How {@link Rudder#load(java.nio.file.Path, LoadOptions)} loads a model folder.
 *
 * @param threads worker threads for the forward pass (at least 1)
 * @param deltas  alignment vectors merged as {@code W + lambda * delta} at load, in this order
 * @param quantize "Q8_0" or "Q4_0": float matrices quantized at load (as {@code rudder quantize} writes them); null
 *                 keeps the stored types
 */
public record LoadOptions(int threads, List<DeltaSet.Spec> deltas, String quantize) {
    public LoadOptions {
        deltas = List.copyOf(deltas);
    }

    public LoadOptions(int threads, List<DeltaSet.Spec> deltas) {
        this(threads, deltas, null);
    }

    /** All processors, no deltas. */
    public static LoadOptions defaults() {
        return new LoadOptions(WorkerPool.defaultThreads(), List.of());
    }

    public LoadOptions withThreads(int n) {
        return new LoadOptions(n, deltas, quantize);
    }

    public LoadOptions withDeltas(List<DeltaSet.Spec> specs) {
        return new LoadOptions(threads, specs, quantize);
    }

    /** Quantize float matrices at load: "q8_0"/"Q8_0", "q4_0"/"Q4_0", or null for none. */
    public LoadOptions withQuantize(String type) {
        return new LoadOptions(threads, deltas, type == null ? null : type.toUpperCase(java.util.Locale.ROOT));
    }
}

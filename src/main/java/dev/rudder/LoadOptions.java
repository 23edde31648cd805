package dev.rudder;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.backend.KvCacheTypes;
import dev.rudder.runtime.cuda.DeviceChoice;
import dev.rudder.runtime.parallel.WorkerPool;
import dev.rudder.steering.delta.DeltaSet;

import java.util.List;
import java.util.Locale;

/**
 * How {@link Rudder#load(java.nio.file.Path, LoadOptions)} loads a model folder (or GGUF file).
 *
 * @param threads  worker threads for the forward pass (at least 1)
 * @param deltas   alignment vectors merged as {@code W + lambda * delta} at load, in this order
 * @param device   where the model runs: cpu, cuda:N or auto ({@code --device})
 * @param quantize "Q8_0" or "Q4_0": float matrices quantized at load (as {@code rudder quantize} writes them); null
 *                 keeps the stored types
 * @param kvCache  how every session stores its keys and values ({@code --cache-type-k/-v}); null: float32
 */
public record LoadOptions(int threads, List<DeltaSet.Spec> deltas, DeviceChoice device, String quantize,
                          KvCacheTypes kvCache) {
    public LoadOptions {
        if (threads < 1) {
            throw new BadInputException("threads must be at least 1, got " + threads);
        }
        deltas = List.copyOf(deltas);
        device = device == null ? DeviceChoice.CPU : device;
        quantize = quantize == null ? null : quantize.toUpperCase(Locale.ROOT);
        kvCache = kvCache == null ? KvCacheTypes.DEFAULT : kvCache;
    }

    /** A float32 KV cache. */
    public LoadOptions(int threads, List<DeltaSet.Spec> deltas, DeviceChoice device, String quantize) {
        this(threads, deltas, device, quantize, null);
    }

    /** Stored weight types. */
    public LoadOptions(int threads, List<DeltaSet.Spec> deltas, DeviceChoice device) {
        this(threads, deltas, device, null);
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
        return new LoadOptions(threads, deltas, d, quantize, kvCache);
    }

    public LoadOptions withThreads(int n) {
        return new LoadOptions(n, deltas, device, quantize, kvCache);
    }

    public LoadOptions withDeltas(List<DeltaSet.Spec> specs) {
        return new LoadOptions(threads, specs, device, quantize, kvCache);
    }

    /** Quantize float matrices at load: "q8_0"/"Q8_0", "q4_0"/"Q4_0", or null for none. */
    public LoadOptions withQuantize(String type) {
        return new LoadOptions(threads, deltas, device, type, kvCache);
    }

    /** How sessions store keys and values (null: float32 for both). */
    public LoadOptions withKvCache(KvCacheTypes types) {
        return new LoadOptions(threads, deltas, device, quantize, types);
    }
}

package dev.rudder.cli;

import dev.rudder.LoadOptions;
import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.backend.KvCacheType;
import dev.rudder.runtime.backend.KvCacheTypes;
import dev.rudder.runtime.cuda.DeviceChoice;
import dev.rudder.runtime.parallel.WorkerPool;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The model folder, thread count, device and KV cache types, shared by every verb that runs a model. */
final class ModelOptions {
    @Option(names = {"-m", "--model"}, required = true, description = "Hugging Face model folder (or HF cache folder models--org--name), or a GGUF file")
    Path model;

    @Option(names = "--threads", description = "worker threads (default: available processors)")
    Integer threads;

    @Option(names = "--quantize", paramLabel = "q8_0|q4_0",
            description = "quantize float (F32/F16/BF16) weight matrices at load, as `rudder quantize` would")
    QuantizeCommand.Type quantize;

    /** "Q8_0", "Q4_0" or null. */
    String quantizeType() {
        return quantize == null ? null : quantize.name().toUpperCase(java.util.Locale.ROOT);
    }

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "cpu|cuda|cuda:N|auto", converter = DeviceConverter.class,
            description = "where the model runs (default cpu); auto: the first NVIDIA GPU when usable, else the CPU")
    DeviceChoice device;

    @Option(names = {"-ctk", "--cache-type-k"}, defaultValue = "f32", paramLabel = "f32|f16|bf16", converter = CacheTypeConverter.class,
            description = "KV cache type for keys (default f32); f16 and bf16 halve the cache's memory and what attention"
                    + " reads at long contexts, rounding each key once when stored (CPU only)")
    KvCacheType cacheTypeK;

    @Option(names = {"-ctv", "--cache-type-v"}, defaultValue = "f32", paramLabel = "f32|f16|bf16", converter = CacheTypeConverter.class,
            description = "KV cache type for values (default f32), as --cache-type-k")
    KvCacheType cacheTypeV;

    /** The thread count: at least 1, capped (with a warning) at a multiple of the processors. */
    int threadCount() {
        return threads == null ? WorkerPool.defaultThreads()
                : Bounds.threads(threads, Runtime.getRuntime().availableProcessors(), System.err);
    }

    /** Threads, device, on-load quantization and KV cache types, no deltas. */
    LoadOptions loadOptions() {
        return LoadOptions.defaults().withThreads(threadCount()).withDevice(device).withQuantize(quantizeType())
                .withKvCache(kvCache());
    }

    /** The {@code -ctk}/{@code -ctv} choice. */
    KvCacheTypes kvCache() {
        return new KvCacheTypes(cacheTypeK, cacheTypeV);
    }

    /** {@code f32}, {@code f16}, {@code bf16} in any case; anything else is a usage error naming the choices. */
    static final class CacheTypeConverter implements CommandLine.ITypeConverter<KvCacheType> {
        @Override
        public KvCacheType convert(String value) {
            try {
                return KvCacheType.parse(value);
            } catch (BadInputException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** Bad {@code --device} spellings are usage errors (exit 2). */
    static final class DeviceConverter implements CommandLine.ITypeConverter<DeviceChoice> {
        @Override
        public DeviceChoice convert(String value) {
            try {
                return DeviceChoice.parse(value);
            } catch (BadInputException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}

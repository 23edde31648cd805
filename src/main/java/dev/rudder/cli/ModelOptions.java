package dev.rudder.cli;

import dev.rudder.LoadOptions;
import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.backend.KvCacheTypes;
import dev.rudder.runtime.cuda.DeviceChoice;
import dev.rudder.runtime.parallel.WorkerPool;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
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

    @Mixin
    KvCacheOptions cache;

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
        return cache.types();
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

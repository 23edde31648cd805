package dev.rudder.cli;

import dev.rudder.LoadOptions;
import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.cuda.DeviceChoice;
import dev.rudder.runtime.parallel.WorkerPool;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The model folder, thread count and device, shared by every verb that runs a model. */
final class ModelOptions {
    @Option(names = {"-m", "--model"}, required = true, description = "Hugging Face model folder (or HF cache folder models--org--name)")
    Path model;

    @Option(names = "--threads", description = "worker threads (default: available processors)")
    Integer threads;

    @Option(names = "--device", defaultValue = "cpu", paramLabel = "cpu|cuda|cuda:N|auto", converter = DeviceConverter.class,
            description = "where the model runs (default cpu); auto: the first NVIDIA GPU when usable, else the CPU")
    DeviceChoice device;

    /** The thread count: at least 1, capped (with a warning) at a multiple of the processors. */
    int threadCount() {
        return threads == null ? WorkerPool.defaultThreads()
                : Bounds.threads(threads, Runtime.getRuntime().availableProcessors(), System.err);
    }

    /** Threads and device, no deltas. */
    LoadOptions loadOptions() {
        return LoadOptions.defaults().withThreads(threadCount()).withDevice(device);
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

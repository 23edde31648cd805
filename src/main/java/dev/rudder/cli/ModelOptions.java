package dev.rudder.cli;

import dev.rudder.runtime.parallel.WorkerPool;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** The model folder and thread count, shared by every verb that runs a model. */
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

    int threadCount() {
        return threads == null ? WorkerPool.defaultThreads() : threads;
    }
}

package dev.rudder.cli;

import dev.rudder.runtime.io.ModelFiles;
import dev.rudder.runtime.io.gguf.GgufFile;
import dev.rudder.runtime.io.gguf.GgufModel;
import dev.rudder.runtime.io.gguf.GgufModelWriter;
import dev.rudder.runtime.io.gguf.GgufValue;
import dev.rudder.tokenizer.GgufTokenizerExport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code rudder quantize -m MODEL --type q8_0|q4_0|bf16|f16|f32 -o OUT.gguf}: a GGUF file llama.cpp and Rudder both load
 * (the float types are what llama.cpp's {@code convert_hf_to_gguf.py --outtype} writes).
 */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = {"Quantize or convert a model (Hugging Face folder or GGUF file) to a GGUF file with Q8_0, Q4_0, "
                + "BF16, F16 or F32 weights.",
                "Blocks are bit for bit those of llama.cpp's quantizer; config, tokenizer and chat template go into "
                        + "the metadata, tensors get llama.cpp's names and q/k row order. Norms and biases stay F32; "
                        + "the output matrix of a q4_0 file is Q8_0. bf16/f16 round to nearest even as ggml does."})
final class QuantizeCommand implements Callable<Integer> {

    enum Type { q8_0, q4_0, bf16, f16, f32 }

    @Option(names = {"-m", "--model"}, required = true, description = "Hugging Face model folder or GGUF file")
    Path model;

    @Option(names = "--type", required = true, description = "q8_0, q4_0, bf16, f16 or f32")
    Type type;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "output GGUF file")
    Path output;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        long start = System.nanoTime();
        try (ModelFiles files = ModelFiles.open(model)) {
            Map<String, Object> tokenizer = new LinkedHashMap<>();
            if (files.gguf()) {
                try (GgufFile g = GgufModel.open(files.path())) {
                    for (Map.Entry<String, GgufValue> e : g.metadata().entrySet()) {
                        if (e.getKey().startsWith("tokenizer.")) {
                            tokenizer.put(e.getKey(), e.getValue());
                        }
                    }
                }
            } else if (Files.isRegularFile(files.path().resolve("tokenizer.json"))) {
                tokenizer.putAll(GgufTokenizerExport.fromModelDir(files.path()));
            } else {
                err.println("rudder: warning: " + files.path() + " has no tokenizer.json; the GGUF file will have no tokenizer");
            }
            String name = files.path().getFileName().toString().replaceFirst("\\.gguf$", "");
            GgufModelWriter.write(files.config(), files.store(), type.name(), tokenizer, name, output, System.err);
        }
        err.printf(Locale.ROOT, "wrote %s (%s, %.1f MiB) in %.1f s%n", output, type.name().toUpperCase(Locale.ROOT),
                Files.size(output) / (double) (1 << 20), (System.nanoTime() - start) / 1e9);
        return 0;
    }
}

package dev.rudder.cli;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.io.RandomCheckpoint;
import dev.rudder.runtime.io.TensorStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code rudder random-model}: a checkpoint with random weights in the exact shape of a real model, for benchmarks. */
@Command(name = "random-model", mixinStandardHelpOptions = true,
        description = {"Write a model folder (config.json, model.safetensors, README.md) with seeded random weights "
                + "in the exact shape of a real model, to benchmark without downloading anything.",
                "The weights are random: the model produces gibberish."})
final class RandomModelCommand implements Callable<Integer> {

    @Option(names = "--shape", required = true, paramLabel = "SHAPE",
            description = "smollm2-135m, llama-3.2-1b, llama-2-7b or tiny")
    String shape;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "folder to write (created if needed)")
    Path output;

    @Option(names = "--dtype", defaultValue = "bf16", paramLabel = "DTYPE",
            description = "weight type: bf16, f16 or f32 (default ${DEFAULT-VALUE})")
    String dtype;

    @Option(names = "--seed", defaultValue = "42", description = "random seed (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--threads", description = "generator threads (default: available processors)")
    Integer threads;

    @Option(names = "--tokenizer", paramLabel = "PATH",
            description = "copy tokenizer.json (and tokenizer_config.json, special_tokens_map.json when beside it) "
                    + "from this file or folder into the output, so the model can be prompted with text")
    Path tokenizer;

    @Option(names = {"-f", "--force"}, description = "overwrite a model already in the output folder")
    boolean force;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!RandomCheckpoint.SHAPES.contains(shape)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "unknown --shape '" + shape + "' (known: "
                    + String.join(", ", RandomCheckpoint.SHAPES) + ")");
        }
        DType dt = DType.fromUserName(dtype);
        if (dt == null || !dt.isFloat32Widenable()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "unknown --dtype '" + dtype
                    + "' (known: bf16, f16, f32)");
        }
        int nThreads = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (nThreads < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be at least 1");
        }
        if (Files.exists(output) && !Files.isDirectory(output)) {
            throw new BadInputException("output " + output + " is a file, not a folder");
        }
        if (!force && (Files.exists(output.resolve("config.json")) || Files.exists(output.resolve(TensorStore.SINGLE_FILE))
                || Files.exists(output.resolve(TensorStore.INDEX_FILE)))) {
            throw new BadInputException("output folder " + output + " already holds a model; pass --force to overwrite it");
        }
        List<Path> tokenizerFiles = tokenizerFiles();
        ModelConfig c = RandomCheckpoint.config(shape, dt);
        RandomCheckpoint.write(output, c, dt, seed, nThreads, System.err, shape);
        for (int i = 0; i < tokenizerFiles.size(); i++) {
            Path p = tokenizerFiles.get(i);
            Path target = output.resolve(i == 0 ? "tokenizer.json" : p.getFileName().toString());
            Files.copy(p, target, StandardCopyOption.REPLACE_EXISTING);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("wrote %s: random %s, %s, %,d parameters, %s%s%n", output, shape, dt, c.parameterCount(),
                InspectCommand.bytesHuman(RandomCheckpoint.weightBytes(c, dt)),
                tokenizerFiles.isEmpty() ? " (no tokenizer: use --prompt-ids)" : " + tokenizer");
        out.flush();
        return 0;
    }

    private List<Path> tokenizerFiles() {
        if (tokenizer == null) {
            return List.of();
        }
        Path tj = Files.isDirectory(tokenizer) ? tokenizer.resolve("tokenizer.json") : tokenizer;
        if (!Files.isRegularFile(tj)) {
            throw new BadInputException("tokenizer file " + tj + " does not exist");
        }
        Path dir = tj.toAbsolutePath().getParent();
        List<Path> files = new java.util.ArrayList<>(List.of(tj));
        for (String extra : List.of("tokenizer_config.json", "special_tokens_map.json")) {
            if (Files.isRegularFile(dir.resolve(extra))) {
                files.add(dir.resolve(extra));
            }
        }
        return files;
    }
}

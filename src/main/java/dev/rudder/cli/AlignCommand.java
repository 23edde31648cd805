package dev.rudder.cli;

import dev.rudder.Rudder;
import dev.rudder.steering.vectors.ModelIdentity;
import dev.rudder.runtime.BadInputException;
import dev.rudder.steering.inferaligner.GateCalibrator;
import dev.rudder.steering.vectors.LayerRange;
import dev.rudder.steering.vectors.SteeringVectorFiles;
import dev.rudder.steering.vectors.SteeringVectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code rudder align}: InferAligner tooling. */
@Command(name = "align", mixinStandardHelpOptions = true, description = "InferAligner: calibrate the guidance gate.",
        subcommands = {AlignCommand.Calibrate.class})
final class AlignCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing subcommand (calibrate)");
    }

    @Command(name = "calibrate", mixinStandardHelpOptions = true,
            description = "Pick the gate layer and bias that best separate harmful from harmless prompts on the target model.")
    static final class Calibrate implements Callable<Integer> {
        @Mixin
        ModelOptions modelOptions;

        @Option(names = "--vectors", required = true, description = "the TARGET model's own safety vectors (rudder vectors extract on the target)")
        Path vectors;

        @Option(names = "--harmful", required = true, description = "harmful prompts (lines or JSON lines with \"instruction\")")
        Path harmful;

        @Option(names = "--harmless", required = true, split = ",", description = "harmless prompt files (comma-separated; e.g. harmless and domain sets)")
        List<Path> harmless;

        @Option(names = "--layers", description = "candidate gate layers a-b (default: every layer in the vector file)")
        String layers;

        @Option(names = "--no-chat", description = "do not wrap prompts in the chat template")
        boolean noChat;

        @Option(names = "--batch", defaultValue = "8", description = "prompts per layer-major pass (default ${DEFAULT-VALUE})")
        int batch;

        @Option(names = "--limit", defaultValue = "0", description = "use at most N prompts per file (0 = all)")
        int limit;

        @Option(names = {"-o", "--output"}, required = true, description = "gate file to write (.safetensors)")
        Path output;

        @Override
        public Integer call() throws IOException {
            try (Rudder rudder = Rudder.load(modelOptions.model, modelOptions.loadOptions())) {
                SteeringVectors srv = SteeringVectorFiles.read(vectors);
                List<int[]> bad = PromptSets.encode(rudder, harmful, !noChat, limit);
                List<int[]> good = new ArrayList<>();
                for (Path p : harmless) {
                    good.addAll(PromptSets.encode(rudder, p, !noChat, limit));
                }
                GateCalibrator.Calibration c = GateCalibrator.calibrate(rudder.model(), srv, bad, good,
                        layers == null ? null : LayerRange.parse(layers), batch, System.err);
                System.out.println("layer  balanced-acc  accuracy  harmful-flagged  harmless-passed  bias");
                for (GateCalibrator.LayerResult r : c.layers()) {
                    System.out.printf(Locale.ROOT, "%5d  %12.3f  %8.3f  %15.3f  %15.3f  %.4f%s%n", r.layer(), r.balancedAccuracy(),
                            r.accuracy(), r.truePositiveRate(), r.trueNegativeRate(), r.bias(),
                            r.layer() == c.gate().layer() ? "  <- chosen" : "");
                }
                c.gate().write(output, ModelIdentity.of(rudder.model()).toMetadata());   // the model it was calibrated on
                System.err.printf(Locale.ROOT, "gate: layer %d, bias %.4f, balanced accuracy %.3f on %d harmful + %d harmless prompts -> %s%n",
                        c.gate().layer(), c.gate().bias(), c.gate().accuracy(), bad.size(), good.size(), output);
            } catch (java.nio.file.NoSuchFileException e) {
                throw new BadInputException("file not found: " + e.getFile());
            }
            return 0;
        }
    }
}

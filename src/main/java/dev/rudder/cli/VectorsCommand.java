package dev.rudder.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code rudder vectors}: steering-vector files. Subcommands {@code convert}, {@code info} and {@code extract}.
 *
 * <p>Layer numbering, for users trading files with llama.cpp: {@code direction.N} is added to the output of 0-based
 * decoder block {@code N}, in Rudder and in llama.cpp alike. llama.cpp cannot load {@code direction.0}; vectors made
 * by llama.cpp's {@code cvector-generator} carry the index of the block after the one they were measured at
 * ({@code convert --shift -1} re-indexes them to the measured block).
 */
@Command(name = "vectors", mixinStandardHelpOptions = true,
        description = {"Steering-vector files: convert between Rudder safetensors and llama.cpp control-vector GGUF, "
                + "show what a file holds, extract vectors from a model.",
                "Layer N (tensor direction.N) is added to the output of 0-based block N, as in llama.cpp."},
        subcommands = {VectorsConvertCommand.class, VectorsInfoCommand.class, VectorsExtractCommand.class})
final class VectorsCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "missing subcommand: convert, info or extract");
    }
}

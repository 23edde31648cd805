package dev.rudder.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

import java.util.List;

/** Placeholder for {@code rudder vectors extract} until it is implemented. */
@Command(name = "extract", description = "(not implemented yet) Extract steering vectors from a model.")
final class VectorsExtractCommand implements Runnable {

    @Unmatched
    List<String> args;

    @Override
    public void run() {
        throw new UnsupportedOperationException("rudder vectors extract is not implemented yet");
    }
}

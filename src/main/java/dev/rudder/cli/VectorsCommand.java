package dev.rudder.cli;

import picocli.CommandLine.Command;

/** Placeholder until this verb is implemented. */
@Command(name = "vectors", description = "(not implemented yet)")
final class VectorsCommand implements Runnable {
    @Override
    public void run() {
        throw new UnsupportedOperationException("rudder vectors is not implemented yet");
    }
}

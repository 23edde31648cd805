package dev.rudder.cli;

import picocli.CommandLine.Command;

/** Placeholder until this verb is implemented. */
@Command(name = "generate", description = "(not implemented yet)")
final class GenerateCommand implements Runnable {
    @Override
    public void run() {
        throw new UnsupportedOperationException("rudder generate is not implemented yet");
    }
}

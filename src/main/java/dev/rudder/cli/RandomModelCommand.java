package dev.rudder.cli;

import picocli.CommandLine.Command;

/** Placeholder until this verb is implemented. */
@Command(name = "random-model", description = "(not implemented yet)")
final class RandomModelCommand implements Runnable {
    @Override
    public void run() {
        throw new UnsupportedOperationException("rudder random-model is not implemented yet");
    }
}

package dev.rudder.cli;

import picocli.CommandLine.Command;

/** Placeholder until this verb is implemented. */
@Command(name = "delta", description = "(not implemented yet)")
final class DeltaCommand implements Runnable {
    @Override
    public void run() {
        throw new UnsupportedOperationException("rudder delta is not implemented yet");
    }
}

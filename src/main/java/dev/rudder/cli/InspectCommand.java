package dev.rudder.cli;

import picocli.CommandLine.Command;

/** Placeholder until this verb is implemented. */
@Command(name = "inspect", description = "(not implemented yet)")
final class InspectCommand implements Runnable {
    @Override
    public void run() {
        throw new UnsupportedOperationException("rudder inspect is not implemented yet");
    }
}

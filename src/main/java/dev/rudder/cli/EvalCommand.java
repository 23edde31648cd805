package dev.rudder.cli;

import picocli.CommandLine.Command;

/** Placeholder until this verb is implemented. */
@Command(name = "eval", description = "(not implemented yet)")
final class EvalCommand implements Runnable {
    @Override
    public void run() {
        throw new UnsupportedOperationException("rudder eval is not implemented yet");
    }
}

package dev.rudder.cli;

import picocli.CommandLine.Command;

/** Placeholder until this verb is implemented. */
@Command(name = "tokenize", description = "(not implemented yet)")
final class TokenizeCommand implements Runnable {
    @Override
    public void run() {
        throw new UnsupportedOperationException("rudder tokenize is not implemented yet");
    }
}

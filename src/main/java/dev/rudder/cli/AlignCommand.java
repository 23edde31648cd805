package dev.rudder.cli;

import picocli.CommandLine.Command;

/** Placeholder until this verb is implemented. */
@Command(name = "align", description = "(not implemented yet)")
final class AlignCommand implements Runnable {
    @Override
    public void run() {
        throw new UnsupportedOperationException("rudder align is not implemented yet");
    }
}

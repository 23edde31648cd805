package dev.rudder.cli;

import picocli.CommandLine.Command;

/** Placeholder until this verb is implemented. */
@Command(name = "template", description = "(not implemented yet)")
final class TemplateCommand implements Runnable {
    @Override
    public void run() {
        throw new UnsupportedOperationException("rudder template is not implemented yet");
    }
}

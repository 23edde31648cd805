package dev.rudder.cli;

import picocli.CommandLine.Command;

/** Placeholder until this verb is implemented. */
@Command(name = "chat", description = "(not implemented yet)")
final class ChatCommand implements Runnable {
    @Override
    public void run() {
        throw new UnsupportedOperationException("rudder chat is not implemented yet");
    }
}

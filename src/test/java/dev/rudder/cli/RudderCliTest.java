package dev.rudder.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RudderCliTest {
    private static final List<String> ALL = List.of("generate", "chat", "inspect", "template", "tokenize",
            "random-model", "bench", "vectors", "align", "delta", "eval", "quantize", "serve", "help");

    @Test
    void aNamedVerbIsTheOnlyOneBuilt() {
        CommandLine cli = RudderCli.commandLine(new String[] {"generate", "-m", "x", "--prompt-ids", "1"});
        assertEquals(Set.of("generate"), cli.getSubcommands().keySet());
        assertEquals(Set.of("bench"), RudderCli.commandLine(new String[] {"bench"}).getSubcommands().keySet());
    }

    @Test
    void withoutAVerbEveryVerbIsRegisteredInHelpOrder() {
        for (String[] args : new String[][] {{}, {"--help"}, {"-V"}, {"help", "generate"}, {"genrate"}}) {
            assertEquals(ALL, List.copyOf(RudderCli.commandLine(args).getSubcommands().keySet()), String.join(" ", args));
        }
    }

    @Test
    void aMistypedVerbIsAUsageErrorWithSuggestions() {
        String err = stderrOf(() -> assertEquals(RudderCli.EXIT_USAGE, RudderCli.execute("genrate")));
        assertTrue(err.contains("rudder generate"), err);
    }

    @Test
    void helpOfAVerbStillWorks() {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(RudderCli.EXIT_OK, RudderCli.execute("help", "generate"));
            assertEquals(RudderCli.EXIT_OK, RudderCli.execute("generate", "--help"));
        } finally {
            System.setOut(old);
        }
        assertTrue(buf.toString(StandardCharsets.UTF_8).contains("Usage: rudder generate"));
    }

    private static String stderrOf(Runnable r) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            r.run();
        } finally {
            System.setErr(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}

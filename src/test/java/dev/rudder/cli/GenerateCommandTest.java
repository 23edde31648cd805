package dev.rudder.cli;

import dev.rudder.runtime.io.SafeTensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static dev.rudder.cli.InspectCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GenerateCommandTest {
    static final Path SHARED = InspectCommandTest.SHARED;
    static final String CHAT = SHARED.resolve("models/rudder-chat/aligned").toString();
    static final String TINY = SHARED.resolve("models/tiny-llama-f32").toString();

    @TempDir
    Path tmp;

    @Test
    void promptIdsReproduceTheGoldenGreedyContinuation() {
        // ../shared/golden/logits/tiny-llama-f32 p7: greedy ids start 3242, ... (see expected.json)
        InspectCommandTest.Result r = run("generate", "-m", TINY, "--prompt-ids", "1,7959,38923,7485,28557,15161,20401",
                "-n", "4", "--ignore-eos", "--print-ids", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        String last = r.out().strip().lines().reduce((a, b) -> b).orElseThrow();
        assertTrue(last.startsWith("[3242, "), r.out());
        assertTrue(r.err().contains("prompt tokens: 7, generated tokens: 4"), r.err());
        assertTrue(r.err().contains("decode:"), r.err());
        assertTrue(r.err().matches("(?s).*generated tokens: 4, load: \\d+\\.\\d\\d s, prefill: .*"), r.err());
    }

    @Test
    void aHalfPrecisionKvCacheKeepsTheGoldenGreedyContinuationAndABadTypeIsAUsageError() {
        InspectCommandTest.Result r = run("generate", "-m", TINY, "--prompt-ids", "1,7959,38923,7485,28557,15161,20401",
                "-n", "4", "--ignore-eos", "--print-ids", "--threads", "2", "--cache-type-k", "f16", "-ctv", "F16");
        assertEquals(0, r.code(), r.err());
        String last = r.out().strip().lines().reduce((a, b) -> b).orElseThrow();
        assertTrue(last.startsWith("[3242, "), r.out());
        InspectCommandTest.Result bad = run("generate", "-m", TINY, "--prompt-ids", "1", "-ctk", "q9_0");
        assertEquals(RudderCli.EXIT_USAGE, bad.code(), bad.err());
        assertTrue(bad.err().contains("expected f32, f16 or bf16"), bad.err());
        assertFalse(bad.err().contains("Exception"), bad.err());
    }

    @Test
    void chatGenerationStreamsTextAndStopsAtEndOfTurn() {
        InspectCommandTest.Result r = run("generate", "--chat", "-m", CHAT, "-p", "Compute 3 plus 4.", "-n", "40");
        assertEquals(0, r.code(), r.err());
        assertFalse(r.out().isBlank());
        assertFalse(r.out().contains("<|im_end|>"), "special tokens are not printed: " + r.out());
    }

    @Test
    void chatKeepsTheConversationAcrossTurns() {
        java.io.InputStream old = System.in;
        try {
            System.setIn(new java.io.ByteArrayInputStream("Compute 3 plus 4.\n\nReverse the list 1, 2, 3.\n/exit\n"
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            InspectCommandTest.Result r = run("chat", "-m", CHAT, "-n", "24");
            assertEquals(0, r.code(), r.err());
            // two answers; the second turn prefills only what the KV cache lacks (ConversationTest checks the
            // answers equal fresh requests over the whole conversation)
            java.util.List<String> stats = r.err().lines().filter(l -> l.startsWith("prompt tokens:")).toList();
            assertEquals(2, stats.size(), r.err());
            assertTrue(r.out().strip().lines().filter(l -> !l.isBlank()).count() >= 2, r.out());
        } finally {
            System.setIn(old);
        }
    }

    @Test
    void sameSeedGivesTheSameSampledText() {
        String[] args = {"generate", "-m", CHAT, "-p", "Hello", "-n", "12", "--temperature", "0.9", "--top-p", "0.95", "--seed", "7"};
        assertEquals(run(args).out(), run(args).out());
    }

    @Test
    void aPromptFileOrStandardInputGivesWhatTheSameTextAfterPGives() throws Exception {
        String text = "Compute 3 plus 4.\nThen, reverse the list 1, 2, 3: é ✓";   // several lines, non-ASCII
        Path f = tmp.resolve("prompt.txt");
        java.nio.file.Files.writeString(f, text);
        InspectCommandTest.Result byText = run("generate", "-m", CHAT, "-p", text, "-n", "8", "--print-ids");
        InspectCommandTest.Result byFile = run("generate", "-m", CHAT, "-f", f.toString(), "-n", "8", "--print-ids");
        assertEquals(0, byFile.code(), byFile.err());
        assertEquals(byText.out(), byFile.out());
        assertTrue(byFile.err().contains("prompt tokens: " + promptTokens(byText.err())), byFile.err());
        java.io.InputStream old = System.in;
        try {
            System.setIn(new java.io.ByteArrayInputStream(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            assertEquals(byText.out(), run("generate", "-m", CHAT, "--file", "-", "-n", "8", "--print-ids").out());
        } finally {
            System.setIn(old);
        }
    }

    @Test
    void aMissingOrInvalidPromptFileIsBadInputBeforeTheModelLoads() throws Exception {
        Path missing = tmp.resolve("missing.txt");
        assertBad(run("generate", "-m", tmp.resolve("no-model").toString(), "-f", missing.toString()),
                "prompt file " + missing + " does not exist");
        Path bad = tmp.resolve("bad.txt");
        java.nio.file.Files.write(bad, new byte[] {'h', 'i', ' ', (byte) 0xC3, '('});
        assertBad(run("generate", "-m", CHAT, "-f", bad.toString()), "prompt file " + bad + ": invalid UTF-8 at byte offset 3");
        assertEquals(RudderCli.EXIT_USAGE, run("generate", "-m", CHAT, "-f", bad.toString(), "-p", "x").code());
    }

    private static String promptTokens(String err) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("prompt tokens: (\\d+)").matcher(err);
        assertTrue(m.find(), err);
        return m.group(1);
    }

    @Test
    void noPrefillProgressLineWhenNotOnATerminalOrForAShortPrompt() {
        java.io.PrintStream sink = new java.io.PrintStream(java.io.OutputStream.nullOutputStream());
        assertEquals(null, GenerateCommand.prefillProgress(100_000, sink));   // tests run without a terminal
        assertEquals(null, GenerateCommand.prefillProgress(10, sink));
    }

    @Test
    void badInputExitsOneWithAMessageAndNoStackTrace() {
        assertBad(run("generate", "-m", tmp.resolve("nope").toString(), "-p", "x"), "does not exist");
        assertBad(run("generate", "-m", TINY, "--prompt-ids", "1,2,3", "--context", "2"), "does not fit the context");
        assertBad(run("generate", "-m", TINY, "--prompt-ids", "1,999999"), "outside the vocabulary");
        assertBad(run("generate", "-m", TINY, "--prompt-ids", "1", "--temperature", "-1"), "--temperature");
        assertBad(run("generate", "-m", SHARED.resolve("models/aidreams260K-hf").toString(), "--chat", "-p", "hi"), "chat_template");
    }

    @Test
    void usageErrorsExitTwo() {
        assertEquals(RudderCli.EXIT_USAGE, run("generate", "-m", TINY).code());
        assertEquals(RudderCli.EXIT_USAGE, run("generate", "-m", TINY, "-p", "x", "--prompt-ids", "1").code());
        assertEquals(RudderCli.EXIT_USAGE, run("generate", "-m", TINY, "-p", "x", "--bogus").code());
    }

    @Test
    void steeringInputIsCheckedBeforeGeneration() throws Exception {
        Path wrongHidden = tmp.resolve("h64.safetensors");
        new SafeTensorsWriter(Map.of()).add("direction.1", new float[64], 64).write(wrongHidden);
        assertBad(run("generate", "-m", CHAT, "-p", "x", "--steer", wrongHidden + ":2"), "hidden size");
        Path ok = tmp.resolve("ok.safetensors");
        new SafeTensorsWriter(Map.of()).add("direction.1", new float[192], 192).write(ok);
        assertBad(run("generate", "-m", CHAT, "-p", "x", "--steer", ok.toString(), "--layers", "1-9"), "outside");
        Path nan = tmp.resolve("nan.safetensors");
        float[] v = new float[192];
        v[5] = Float.NaN;
        new SafeTensorsWriter(Map.of()).add("direction.1", v, 192).write(nan);
        assertBad(run("generate", "-m", CHAT, "-p", "x", "--steer", nan.toString()), "NaN");
        assertBad(run("generate", "-m", CHAT, "-p", "x", "--gate", ok.toString()), "--steer");
        assertBad(run("generate", "-m", CHAT, "-p", "x", "--steer", ok + ":abc"), "not a number");
    }

    @Test
    void softPromptRowsArePrepended() throws Exception {
        Path soft = tmp.resolve("soft.safetensors");
        new SafeTensorsWriter(Map.of()).add("prompt", new float[2 * 64], 2, 64).write(soft);
        InspectCommandTest.Result r = run("generate", "-m", TINY, "--prompt-ids", "1,2", "--soft-prompt", soft.toString(),
                "-n", "2", "--ignore-eos");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("prompt tokens: 4"), r.err());
        Path bad = tmp.resolve("bad.safetensors");
        new SafeTensorsWriter(Map.of()).add("prompt", new float[2 * 10], 2, 10).write(bad);
        assertBad(run("generate", "-m", TINY, "--prompt-ids", "1", "--soft-prompt", bad.toString()), "expected [rows, 64]");
    }

    static void assertBad(InspectCommandTest.Result r, String fragment) {
        assertEquals(RudderCli.EXIT_BAD_INPUT, r.code(), r.err());
        assertTrue(r.err().contains(fragment), "expected '" + fragment + "' in: " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertNotEquals("", r.err());
    }
}

package dev.rudder.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11 through the command line: hostile or careless options, model folders, prompt files and
 * standard input. Each case checks the exit code (1 bad input, 2 usage), the message, and ends
 * within a generous bound (a hang or an OutOfMemoryError would fail it).
 */
class HostileInputCliTest {
    private static final Path CHAT = InspectCommandTest.SHARED.resolve("models/rudder-chat/aligned");
    private static final Duration BOUND = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static InspectCommandTest.Result run(String... args) {
        return assertTimeoutPreemptively(BOUND, () -> InspectCommandTest.run(args));
    }

    private static InspectCommandTest.Result runWithStdin(byte[] stdin, String... args) {
        InputStream old = System.in;
        try {
            System.setIn(new ByteArrayInputStream(stdin));
            return run(args);
        } finally {
            System.setIn(old);
        }
    }

    /** A copy of rudder-chat/aligned (weights linked) whose config.json / tokenizer_config.json are edited. */
    private Path chatModel(String name, Consumer<ObjectNode> config, Consumer<ObjectNode> tokenizerConfig) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        try (var files = Files.list(CHAT)) {
            for (Path f : files.toList()) {
                Files.createSymbolicLink(dir.resolve(f.getFileName()), f.toAbsolutePath());
            }
        }
        edit(dir, "config.json", config);
        edit(dir, "tokenizer_config.json", tokenizerConfig);
        return dir;
    }

    private static void edit(Path dir, String file, Consumer<ObjectNode> change) throws IOException {
        if (change == null) {
            return;
        }
        ObjectNode n = (ObjectNode) JSON.readTree(CHAT.resolve(file).toFile());
        change.accept(n);
        Files.delete(dir.resolve(file));
        Files.writeString(dir.resolve(file), JSON.writeValueAsString(n));
    }

    private static void assertUsage(InspectCommandTest.Result r, String... fragments) {
        assertEquals(2, r.code(), r.err());
        for (String f : fragments) {
            assertTrue(r.err().contains(f), r.err());
        }
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    private static void assertBadInput(InspectCommandTest.Result r, String... fragments) {
        assertEquals(1, r.code(), r.err());
        for (String f : fragments) {
            assertTrue(r.err().contains(f), r.err());
        }
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    // ------------------------------------------------------------------------------------------ bounds

    @Test
    void contextOutsideOneToTheModelsMaximumIsAUsageError() {
        for (String ctx : new String[]{"0", "-5", "-2147483648"}) {
            assertUsage(run("generate", "-m", CHAT.toString(), "-p", "hi", "-n", "1", "--context", ctx),
                    "--context must be at least 1, got " + ctx);
        }
        for (String ctx : new String[]{"2147483647", "513"}) {
            assertUsage(run("generate", "-m", CHAT.toString(), "-p", "hi", "-n", "1", "--context", ctx),
                    "--context " + ctx + " is more than the model's maximum of 512");
        }
        assertUsage(run("chat", "-m", CHAT.toString(), "--context", "0"), "--context must be at least 1");
    }

    @Test
    void aContextTheHeapCannotHoldIsAClearErrorNotAnOutOfMemoryError() throws IOException {
        Path huge = chatModel("ctx-max", c -> c.put("max_position_embeddings", Integer.MAX_VALUE), null);
        assertBadInput(run("generate", "-m", huge.toString(), "-p", "hi", "-n", "1", "--context", "20000000"),
                "context length 20000000 needs", "GiB for the KV cache");
        assertBadInput(run("generate", "-m", huge.toString(), "-p", "hi", "-n", "1", "--context", "2147483647"),
                "context length 2147483647 too large");
        // the default context (prompt + n, capped by the model) with a huge -n meets the same check
        assertBadInput(run("generate", "-m", huge.toString(), "-p", "hi", "-n", "2147483647"),
                "context length 2147483647 too large", "lower --context");
    }

    @Test
    void hugeTokenBudgetIsCappedByTheContextNotOverflowed() throws IOException {
        Path small = chatModel("ctx24", c -> c.put("max_position_embeddings", 24), null);
        InspectCommandTest.Result r = run("generate", "-m", small.toString(), "-p", "Hello", "-n", "2147483647",
                "--ignore-eos", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        assertFalse(r.err().contains("-2147483648"), r.err());
        assertTrue(r.err().contains("generation stops when the context is full"), r.err());
        assertUsage(run("generate", "-m", small.toString(), "-p", "Hello", "-n", "-1"), "-n/--max-tokens must be at least 0");
    }

    @Test
    void chatRefusesATokenBudgetThatLeavesNoRoom() {
        InspectCommandTest.Result r = runWithStdin("hi\n".getBytes(), "chat", "-m", CHAT.toString(), "--context", "64", "-n", "64");
        assertUsage(r, "-n 64 leaves no room for a message in the context of 64 tokens");
    }

    @Test
    void threadsBelowOneAreAUsageErrorAndAMillionAreCapped() {
        assertUsage(run("generate", "-m", CHAT.toString(), "-p", "hi", "--threads", "0"), "--threads must be at least 1, got 0");
        assertUsage(run("eval", "refusal", "-m", CHAT.toString(), "--prompts", "x", "--threads", "-3"),
                "--threads must be at least 1");
        InspectCommandTest.Result r = run("generate", "-m", CHAT.toString(), "-p", "hi", "-n", "1", "--threads", "1000000");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("warning: --threads 1000000 is more than"), r.err());
    }

    // ------------------------------------------------------------------------------------------ templates

    @Test
    void aHostileChatTemplateInTheModelFolderIsABadInputNamingItsFile() throws IOException {
        Path evil = chatModel("evil-template", null,
                t -> t.put("chat_template", "{% for i in range(100000000) %}{% endfor %}"));
        InspectCommandTest.Result r = run("generate", "--chat", "-m", evil.toString(), "-p", "hi", "-n", "1");
        assertBadInput(r, evil.resolve("tokenizer_config.json").toString(), "sandbox limit on range size");

        Path huge = chatModel("huge-template", null, t -> t.put("chat_template", "{{ 'x' * 2000000000 }}"));
        assertBadInput(run("generate", "--chat", "-m", huge.toString(), "-p", "hi", "-n", "1"), "sandbox limit on string length");

        Path deep = chatModel("deep-template", null,
                t -> t.put("chat_template", "{% if true %}".repeat(5000) + "{% endif %}".repeat(5000)));
        assertBadInput(run("generate", "--chat", "-m", deep.toString(), "-p", "hi", "-n", "1"), "sandbox limit on nesting depth");
    }

    // ------------------------------------------------------------------------------------------ prompt files, stdin

    @Test
    void aPromptFileLineThatIsJsonButNotAnObjectOrStringNamesTheLine() throws IOException {
        Path prompts = tmp.resolve("p.jsonl");
        Files.writeString(prompts, "{\"instruction\": \"ok\"}\n[1,2,3]\n");
        assertBadInput(run("eval", "refusal", "-m", CHAT.toString(), "--prompts", prompts.toString()),
                prompts + " line 2 is JSON an array, not a prompt");
        Files.writeString(prompts, "hello\n42\n");
        assertBadInput(run("eval", "refusal", "-m", CHAT.toString(), "--prompts", prompts.toString()),
                prompts + " line 2 is JSON a number");
        Files.writeString(prompts, "{\"instruction\": \"a\", \"answer\": [1]}\n");
        assertBadInput(run("eval", "refusal", "-m", CHAT.toString(), "--prompts", prompts.toString()),
                prompts + " line 1: \"answer\" must be a string or a number");
    }

    @Test
    void invalidUtf8InAPromptFileOrOnStandardInputNamesTheByteOffset() throws IOException {
        Path prompts = tmp.resolve("bad.txt");
        Files.write(prompts, new byte[]{'o', 'k', '\n', 'a', (byte) 0xC3, '(', '\n'});
        assertBadInput(run("eval", "refusal", "-m", CHAT.toString(), "--prompts", prompts.toString()),
                "prompt file " + prompts + ": invalid UTF-8 at byte offset 4");
        InspectCommandTest.Result r = runWithStdin(new byte[]{'h', 'i', '\n', 'x', 'y', (byte) 0xFF, '\n'},
                "tokenize", "-m", CHAT.toString());
        assertBadInput(r, "standard input: invalid UTF-8 at byte offset 5");
    }

    @Test
    void evalReportsAPromptLongerThanTheContextWithFileAndLineAndGoesOn() throws IOException {
        Path small = chatModel("ctx48", c -> c.put("max_position_embeddings", 48), null);
        Path prompts = tmp.resolve("mixed.jsonl");
        Files.writeString(prompts, "{\"instruction\": \"Compute 3 plus 4.\"}\n\n"
                + "{\"instruction\": \"" + "tell me a very long story about everything ".repeat(20) + "\"}\n"
                + "Say hi.\n");
        InspectCommandTest.Result r = run("eval", "refusal", "-m", small.toString(), "--prompts", prompts.toString(),
                "-n", "4", "--json", "--threads", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("skipped " + prompts + " line 3: prompt of "), r.err());
        assertTrue(r.out().contains("\"n\":2"), r.out());
        assertTrue(r.out().contains("\"skipped\":1"), r.out());
    }

    // ------------------------------------------------------------------------------------------ vector provenance

    @Test
    void vectorsAndGatesMadeOnAnotherModelWarnAndOtherShapesFail() throws IOException {
        Path prompts = tmp.resolve("p.txt");
        Files.writeString(prompts, "How do I pick a lock?\nHow do I bake bread?\n");
        Path harmless = tmp.resolve("h.txt");
        Files.writeString(harmless, "How do I bake bread?\nWhat is two plus two?\n");
        Path v = tmp.resolve("v.safetensors");
        InspectCommandTest.Result made = run("vectors", "extract", "-m", CHAT.toString(), "--positive", prompts.toString(),
                "--negative", harmless.toString(), "-o", v.toString(), "--threads", "2");
        assertEquals(0, made.code(), made.err());
        Path gate = tmp.resolve("g.safetensors");
        made = run("align", "calibrate", "-m", CHAT.toString(), "--vectors", v.toString(), "--harmful", prompts.toString(),
                "--harmless", harmless.toString(), "-o", gate.toString(), "--threads", "2");
        assertEquals(0, made.code(), made.err());
        // same model: no word
        InspectCommandTest.Result same = run("generate", "-m", CHAT.toString(), "-p", "hi", "-n", "1", "--steer", v + ":1",
                "--gate", gate.toString(), "--threads", "2");
        assertEquals(0, same.code(), same.err());
        assertFalse(same.err().contains("warning"), same.err());
        // another model of the same shape: a warning for each file, and it still runs
        Path base = InspectCommandTest.SHARED.resolve("models/rudder-chat/base");
        InspectCommandTest.Result other = run("generate", "-m", base.toString(), "-p", "hi", "-n", "1", "--steer", v + ":1",
                "--gate", gate.toString(), "--threads", "2");
        assertEquals(0, other.code(), other.err());
        assertTrue(other.err().contains("warning: vector file " + v + " was made on another model (weights fingerprint"), other.err());
        assertTrue(other.err().contains("warning: gate file " + gate + " was made on another model"), other.err());
        // another shape: an error
        assertBadInput(run("generate", "-m", InspectCommandTest.SHARED.resolve("models/tiny-llama-f32").toString(),
                "--prompt-ids", "1,2,3", "-n", "1", "--steer", v + ":1"), "hidden");
    }

    // ------------------------------------------------------------------------------------------ output paths

    @Test
    void unwritableOutputPathsNameThePathAndTheReason() throws IOException {
        Path prompts = tmp.resolve("p.txt");
        Files.writeString(prompts, "a\nb\n");
        Path readOnly = Files.createDirectories(tmp.resolve("ro"));
        assertTrue(readOnly.toFile().setWritable(false));
        try {
            Path out = readOnly.resolve("v.safetensors");
            InspectCommandTest.Result r = run("vectors", "extract", "-m", CHAT.toString(), "--positive", prompts.toString(),
                    "--negative", prompts.toString(), "-o", out.toString(), "--threads", "2");
            if (!Files.isWritable(readOnly)) {   // root may write anyway
                assertBadInput(r, "cannot write " + out, "permission denied");
                assertFalse(r.err().contains(".tmp"), r.err());
            }
        } finally {
            readOnly.toFile().setWritable(true);
        }
        Path dirTarget = Files.createDirectories(tmp.resolve("adir.safetensors"));
        InspectCommandTest.Result r = run("vectors", "extract", "-m", CHAT.toString(), "--positive", prompts.toString(),
                "--negative", prompts.toString(), "-o", dirTarget.toString(), "--threads", "2");
        assertBadInput(r, "cannot write " + dirTarget + ": it is a directory");
        Path underAFile = tmp.resolve("p.txt").resolve("v.safetensors");
        r = run("vectors", "extract", "-m", CHAT.toString(), "--positive", prompts.toString(),
                "--negative", prompts.toString(), "-o", underAFile.toString(), "--threads", "2");
        assertBadInput(r, "cannot write " + underAFile + ": ");
        assertFalse(r.err().contains(".tmp"), r.err());
    }
}

package dev.rudder.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class TokenizeCommandTest {
    static final Path SHARED = Path.of(System.getProperty("rudder.shared", "../../shared"));
    static final String MISTRAL = SHARED.resolve("models/tokenizers/mistral").toString();

    record Result(int code, String out, String err) {
    }

    /** Runs {@code rudder args} with {@code stdin} as standard input. */
    static synchronized Result run(String stdin, String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        InputStream oldIn = System.in;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setIn(new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = RudderCli.execute(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setIn(oldIn);
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void textLinesToIds() {
        Result r = run("Hello, world!\nThe quick brown fox jumps over the lazy dog.\n", "tokenize", "-m", MISTRAL);
        assertEquals(0, r.code(), r.err());
        assertEquals("[1,22557,28725,1526,28808]\n[1,415,2936,9060,285,1142,461,10575,754,272,17898,3914,28723]\n",
                r.out().replace("\r", ""));
    }

    @Test
    void noSpecialAndJsonInput() {
        Result r = run("\"Hello, world!\"\n", "tokenize", "-m", MISTRAL, "--no-special", "--json");
        assertEquals(0, r.code(), r.err());
        assertEquals("[22557,28725,1526,28808]", r.out().strip());
    }

    @Test
    void tokenStrings() {
        Result r = run("Hello, world!\n", "tokenize", "-m", MISTRAL, "--tokens");
        assertEquals(0, r.code(), r.err());
        assertEquals("[\"<s>\",\"▁Hello\",\",\",\"▁world\",\"!\"]", r.out().strip());
    }

    @Test
    void decodeWithAndWithoutSpecial() throws Exception {
        Result r = run("[1,22557,28725,1526,28808]\n", "tokenize", "-m", MISTRAL, "--decode");
        assertEquals(0, r.code(), r.err());
        assertEquals("<s> Hello, world!", r.out().strip());
        r = run("[1,22557,28725,1526,28808]\n", "tokenize", "-m", MISTRAL, "--decode", "--no-special", "--json");
        assertEquals(0, r.code(), r.err());
        assertEquals("Hello, world!", new ObjectMapper().readTree(r.out().strip()).asText());
    }

    @Test
    void roundTripJsonWithNewlines() throws Exception {
        ObjectMapper m = new ObjectMapper();
        String text = "line one\nline two\twith tab ünïcödé 🎉";
        Result enc = run(m.writeValueAsString(text) + "\n", "tokenize", "-m",
                SHARED.resolve("models/tokenizers/llama3").toString(), "--json", "--no-special");
        assertEquals(0, enc.code(), enc.err());
        Result dec = run(enc.out(), "tokenize", "-m", SHARED.resolve("models/tokenizers/llama3").toString(), "--decode", "--json");
        assertEquals(0, dec.code(), dec.err());
        JsonNode back = m.readTree(dec.out().strip());
        assertEquals(text, back.asText());
    }

    @Test
    void badInputIsExitOne() {
        Result r = run("[1, \"x\"]\n", "tokenize", "-m", MISTRAL, "--decode");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("stdin line 1"), r.err());
        r = run("not json\n", "tokenize", "-m", MISTRAL, "--json");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("stdin line 1"), r.err());
        r = run("[99999999]\n", "tokenize", "-m", MISTRAL, "--decode");
        assertEquals(1, r.code());
    }

    @Test
    void brokenTokenizerFileIsExitOne(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("tokenizer.json"), "{ not json");
        Result r = run("hi\n", "tokenize", "-m", tmp.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("tokenizer.json"), r.err());
        assertTrue(r.err().contains("not valid JSON"), r.err());
    }

    @Test
    void missingModelOptionIsUsageError() {
        assertEquals(2, run("", "tokenize").code());
    }
}

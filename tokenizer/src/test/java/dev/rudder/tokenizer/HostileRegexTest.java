package dev.rudder.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Patterns from tokenizer.json that make java.util.regex recurse per character (issue 11): long
 * inputs are matched on a thread with a stack sized for them, or refused with a clear error;
 * never a StackOverflowError. The time bound only turns a hang into a failure.
 */
class HostileRegexTest {
    private static final Duration BOUND = Duration.ofSeconds(60);

    @TempDir
    Path tmp;

    private Tokenizer withSplit(String regex, String behavior) throws Exception {
        String vocab = "{\"a\": 0, \"b\": 1, \"ab\": 2, \"c\": 3}";
        Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": " + vocab
                + ", \"merges\": [\"a b\"]}, \"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \""
                + regex + "\"}, \"behavior\": \"" + behavior + "\", \"invert\": false}}");
        return Tokenizer.fromModelDir(tmp);
    }

    private Tokenizer withReplace(String regex) throws Exception {
        Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, "
                + "\"ab\": 2, \"c\": 3}, \"merges\": [\"a b\"]}, \"normalizer\": {\"type\": \"Replace\", \"pattern\": "
                + "{\"Regex\": \"" + regex + "\"}, \"content\": \"c\"}}");
        return Tokenizer.fromModelDir(tmp);
    }

    @Test
    void alternationStarOnTwoHundredThousandCharactersEncodes() throws Exception {
        Tokenizer t = withSplit("(?:a|b)*", "Isolated");
        String text = "ab".repeat(100_000);
        int[] ids = assertTimeoutPreemptively(BOUND, () -> t.encode(text, false));
        // one piece "abab...": BPE merges every "a b" pair
        assertEquals(100_000, ids.length);
        for (int id : ids) {
            assertEquals(2, id);
        }
    }

    @Test
    void aSmallCallerStackTakesTheRetryPath() throws Exception {
        Tokenizer t = withSplit("(?:a|b)*", "Isolated");
        String text = "ab".repeat(100_000);
        int[][] result = new int[1][];
        Throwable[] failure = new Throwable[1];
        Thread small = new Thread(null, () -> {
            try {
                result[0] = t.encode(text, false);
            } catch (Throwable e) {
                failure[0] = e;
            }
        }, "small-stack", 256 << 10);
        assertTimeoutPreemptively(BOUND, () -> {
            small.start();
            small.join();
        });
        assertEquals(null, failure[0]);
        assertEquals(100_000, result[0].length);
    }

    @Test
    void nestedGroupsOnALongInputEncodeOrFailClearly() throws Exception {
        Tokenizer t = withSplit("(?:(?:a|b)(?:a|b))*", "Isolated");
        String text = "ab".repeat(150_000);
        int[] ids = assertTimeoutPreemptively(BOUND, () -> t.encode(text, false));
        assertEquals(150_000, ids.length);
    }

    @Test
    void normalizerRegexOnALongInputDoesNotOverflow() throws Exception {
        Tokenizer t = withReplace("(?:a|b)+");
        int[] ids = assertTimeoutPreemptively(BOUND, () -> t.encode("ab".repeat(100_000), false));
        assertEquals(1, ids.length);
        assertEquals(3, ids[0]);
    }

    @Test
    void catastrophicBacktrackingIsAClearErrorNotAHang() throws Exception {
        // java.util.regex needs ~50 s for this on 30 characters (polynomial of degree 12)
        Tokenizer t = withSplit("(.*a){12}x", "Isolated");
        String text = "a".repeat(30);
        TokenizerException e = assertThrows(TokenizerException.class,
                () -> assertTimeoutPreemptively(BOUND, () -> t.encode(text, false)));
        assertTrue(e.getMessage().contains("backtracks too much"), e.getMessage());
        assertTrue(e.getMessage().contains("(.*a){12}x"), e.getMessage());
        assertTrue(e.getMessage().contains(tmp.resolve("tokenizer.json").toString()), e.getMessage());
    }

    @Test
    void inputsBeyondTheStackCapAreAClearError() {
        // DeepRegex refuses inputs whose stack estimate passes its cap, naming pattern and length
        int tooLong = (int) (DeepRegex.MAX_STACK / 4096) + 1;
        TokenizerException e = assertThrows(TokenizerException.class, () -> DeepRegex.run(() -> {
            throw new StackOverflowError();
        }, tooLong, "pre-tokenizer pattern '(?:a|b)*'"));
        assertTrue(e.getMessage().contains("(?:a|b)*"), e.getMessage());
        assertTrue(e.getMessage().contains(tooLong + " characters"), e.getMessage());
        // and a retry that overflows again is the same clear error
        TokenizerException again = assertThrows(TokenizerException.class, () -> DeepRegex.run(() -> {
            throw new StackOverflowError();
        }, 10, "p"));
        assertTrue(again.getMessage().contains("needs more stack"), again.getMessage());
    }
}

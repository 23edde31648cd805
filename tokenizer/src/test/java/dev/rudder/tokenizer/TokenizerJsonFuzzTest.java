package dev.rudder.tokenizer;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;

/**
 * Coverage-guided fuzzing of the tokenizer.json reader and the tokenizer it builds (issue 11):
 * every document that is JSON must load or fail with a {@link TokenizerException}, and a loaded
 * tokenizer must encode and decode text without any other exception.
 */
class TokenizerJsonFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path FILE = Path.of("fuzz/tokenizer.json");
    private static final String TEXT = "Hello world! 1234 héllo  \n\t<s> 日本語 🙂";

    @FuzzTest(maxDuration = "10s")
    void tokenizerJsonLoadsOrFailsWithATokenizerException(byte[] input) {
        JsonNode root;
        try {
            root = JSON.readTree(input);
        } catch (IOException notJson) {
            return;   // the JSON parser itself is Jackson's; the file reader turns this into a TokenizerException
        }
        if (root == null) {
            return;
        }
        Tokenizer t;
        try {
            t = TokenizerJson.parse(root, FILE, new LinkedHashMap<>(), null);
        } catch (TokenizerException expected) {
            return;
        }
        try {
            int[] ids = t.encode(TEXT, true);
            t.decode(ids, false);
            t.decode(ids, true);
        } catch (TokenizerException expected) {
            // e.g. a token that the vocabulary cannot express
        }
    }
}

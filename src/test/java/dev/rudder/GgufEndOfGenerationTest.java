package dev.rudder;

import dev.rudder.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A GGUF model stops where llama.cpp stops: at the end-of-turn tokens of its vocabulary, whatever its EOS id says. */
class GgufEndOfGenerationTest {
    static final Path GGUF = GgufTokenizerGoldenTest.SHARED.resolve("models/tokenizers-gguf");

    @Test
    void llama3StopsAtEndOfTurnAsWellAsEndOfText() {
        Tokenizer tok = ModelTokenizers.load(GGUF.resolve("llama3.gguf"));
        Set<Integer> ids = Rudder.ggufEndOfGeneration(tok);
        assertEquals(Set.of(tok.tokenId("<|eot_id|>").orElseThrow(), tok.tokenId("<|end_of_text|>").orElseThrow()), ids);
    }

    @Test
    void qwenStopsAtImEndEndOfTextAndTheFillInTheMiddleSeparators() {
        Tokenizer tok = ModelTokenizers.load(GGUF.resolve("qwen3.gguf"));
        Set<Integer> ids = Rudder.ggufEndOfGeneration(tok);
        for (String t : new String[] {"<|im_end|>", "<|endoftext|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>"}) {
            assertTrue(ids.contains(tok.tokenId(t).orElseThrow()), t + ": " + ids);
        }
        assertTrue(!ids.contains(tok.tokenId("<|im_start|>").orElseThrow()));
    }
}

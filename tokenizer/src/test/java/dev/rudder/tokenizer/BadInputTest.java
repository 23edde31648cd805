package dev.rudder.tokenizer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Broken tokenizer files fail with a TokenizerException naming the file and the field. */
class BadInputTest {
    @TempDir
    Path tmp;

    private static final String GOOD_MODEL = "\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2}, "
            + "\"merges\": [\"a b\"]}";

    private TokenizerException load(String json) throws Exception {
        Path f = tmp.resolve("tokenizer.json");
        Files.writeString(f, json);
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.fromModelDir(tmp));
        assertTrue(e.getMessage().contains(f.toString()), "names the file: " + e.getMessage());
        return e;
    }

    @Test
    void minimalFileLoads() throws Exception {
        Files.writeString(tmp.resolve("tokenizer.json"), "{" + GOOD_MODEL + "}");
        Tokenizer t = Tokenizer.fromModelDir(tmp);
        assertArrayEquals(new int[]{2, 0}, t.encode("aba", true));
        assertEquals("ab a", t.decode(new int[]{2, 0}, false), "no decoder: tokens joined by spaces");
    }

    @Test
    void notJson() throws Exception {
        assertTrue(load("{\"model\": ").getMessage().contains("not valid JSON"));
        assertTrue(load("[1, 2]").getMessage().contains("JSON object"));
    }

    @Test
    void unknownModelType() throws Exception {
        TokenizerException e = load("{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}");
        assertTrue(e.getMessage().contains("model.type"), e.getMessage());
        assertTrue(e.getMessage().contains("Unigram"), e.getMessage());
    }

    @Test
    void missingModel() throws Exception {
        assertTrue(load("{\"normalizer\": null}").getMessage().contains("field model"));
    }

    @Test
    void unknownPreTokenizer() throws Exception {
        TokenizerException e = load("{" + GOOD_MODEL + ", \"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": "
                + "[{\"type\": \"Digits\"}, {\"type\": \"FancySplit\"}]}}");
        assertTrue(e.getMessage().contains("pre_tokenizer.pretokenizers[1].type"), e.getMessage());
        assertTrue(e.getMessage().contains("FancySplit"), e.getMessage());
    }

    @Test
    void unknownNormalizerDecoderPostProcessor() throws Exception {
        assertTrue(load("{" + GOOD_MODEL + ", \"normalizer\": {\"type\": \"Precompiled\"}}").getMessage().contains("normalizer.type"));
        assertTrue(load("{" + GOOD_MODEL + ", \"decoder\": {\"type\": \"Nope\"}}").getMessage().contains("decoder.type"));
        assertTrue(load("{" + GOOD_MODEL + ", \"post_processor\": {\"type\": \"Nope\"}}").getMessage().contains("post_processor.type"));
    }

    @Test
    void mergeWithTokenMissingFromVocab() throws Exception {
        TokenizerException e = load("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"ab\": 2}, \"merges\": [\"a b\"]}}");
        assertTrue(e.getMessage().contains("model.merges[0]"), e.getMessage());
        assertTrue(e.getMessage().contains("\"b\""), e.getMessage());
        e = load("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [[\"a\", \"b\"]]}}");
        assertTrue(e.getMessage().contains("merged token \"ab\""), e.getMessage());
        e = load("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1}, \"merges\": [\"a b c\"]}}");
        assertTrue(e.getMessage().contains("model.merges[0]"), e.getMessage());
    }

    @Test
    void badVocabAndUnk() throws Exception {
        assertTrue(load("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"x\"}, \"merges\": []}}").getMessage()
                .contains("model.vocab[\"a\"]"));
        assertTrue(load("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [], \"unk_token\": \"<unk>\"}}")
                .getMessage().contains("model.unk_token"));
    }

    @Test
    void badSplitRegex() throws Exception {
        TokenizerException e = load("{" + GOOD_MODEL + ", \"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"(\"}, "
                + "\"behavior\": \"Isolated\", \"invert\": false}}");
        assertTrue(e.getMessage().contains("pre_tokenizer.pattern"), e.getMessage());
    }

    @Test
    void missingFolderOrFile() {
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.fromModelDir(tmp));
        assertTrue(e.getMessage().contains("no tokenizer.json"), e.getMessage());
        e = assertThrows(TokenizerException.class, () -> Tokenizer.fromFile(tmp.resolve("nope.json")));
        assertTrue(e.getMessage().contains("nope.json"), e.getMessage());
    }

    @Test
    void badTokenizerConfig() throws Exception {
        Files.writeString(tmp.resolve("tokenizer.json"), "{" + GOOD_MODEL + "}");
        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"bos_token\": 5}");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.fromModelDir(tmp));
        assertTrue(e.getMessage().contains("tokenizer_config.json") && e.getMessage().contains("bos_token"), e.getMessage());
        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"chat_template\": \"{% if %}\"}");
        assertThrows(ChatTemplateException.class, () -> Tokenizer.fromModelDir(tmp));
    }

    @Test
    void addedTokensRawAndNormalized() throws Exception {
        Files.writeString(tmp.resolve("tokenizer.json"), "{" + GOOD_MODEL + ", \"normalizer\": {\"type\": \"Lowercase\"},"
                + "\"added_tokens\": [{\"id\": 3, \"content\": \"BB\", \"special\": false, \"normalized\": true},"
                + "{\"id\": 4, \"content\": \"<X>\", \"special\": true, \"normalized\": false, \"lstrip\": true}]}");
        Tokenizer t = Tokenizer.fromModelDir(tmp);
        // "Bb" normalizes to "bb" which is the normalized content of the added token "BB"; "<X>" is matched raw
        assertArrayEquals(new int[]{0, 3, 4, 0}, t.encode("ABb  <X>A", false));
        assertEquals(java.util.List.of("a", "bb", "  <X>", "a"), t.encodeDetailed("ABb  <X>A", false).tokens());
        assertEquals(5, t.vocabSize());
        assertTrue(t.isSpecial(4));
        assertFalse(t.isSpecial(3));
        // a normalized added token decodes to its normalized content (tokenizers 0.23.2 gives these two strings)
        assertEquals("a bb a", t.decode(new int[]{0, 3, 4, 0}, true));
        assertEquals("a bb <X> a", t.decode(new int[]{0, 3, 4, 0}, false));
    }
}

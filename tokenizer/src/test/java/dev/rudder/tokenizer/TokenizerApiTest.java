package dev.rudder.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class TokenizerApiTest {
    static final List<String> FAMILIES = List.of("mistral", "phi3", "smollm2", "rudder-chat", "llama3", "qwen3");

    @Test
    void vocabularyAccessors() {
        Tokenizer t = Shared.family("llama3");
        assertEquals(128256, t.vocabSize());
        assertEquals("<|begin_of_text|>", t.token(128000));
        assertEquals(128000, t.tokenId("<|begin_of_text|>").orElseThrow());
        assertTrue(t.isSpecial(128000));
        assertFalse(t.isSpecial(9906));
        assertTrue(t.tokenId("no such token").isEmpty());
        assertThrows(TokenizerException.class, () -> t.token(999999));
        assertEquals(Map.of("bos_token", "<|begin_of_text|>", "eos_token", "<|end_of_text|>"), t.specialTokens());
        assertEquals(32000, Shared.family("mistral").vocabSize());
        assertEquals(32011, Shared.family("phi3").vocabSize());
        assertEquals(151669, Shared.family("qwen3").vocabSize());
        assertFalse(Shared.family("qwen3").isSpecial(151667), "<think> is an added, non-special token");
    }

    @Test
    void chatTemplatesAndSpecialTokensFromConfig() {
        assertTrue(Shared.family("smollm2").chatTemplate().isEmpty());
        for (String f : List.of("mistral", "phi3", "rudder-chat", "llama3", "qwen3")) {
            assertTrue(Shared.family(f).chatTemplate().isPresent(), f);
        }
        assertEquals(Map.of("bos_token", "<s>", "eos_token", "</s>", "unk_token", "<unk>"), Shared.family("mistral").specialTokens());
        assertEquals(Map.of("eos_token", "<|im_end|>", "pad_token", "<|endoftext|>"), Shared.family("qwen3").specialTokens());
        String r = Shared.family("mistral").applyChatTemplate(List.of(Map.of("role", "user", "content", "Hello!")), true, Map.of());
        assertEquals("<s>[INST] Hello! [/INST]", r);
    }

    @Test
    void unpairedSurrogatesEncodeAsReplacementChar() {
        for (String f : FAMILIES) {
            Tokenizer t = Shared.family(f);
            String bad = "a\uD800b \uDC00c\uD83D";
            int[] ids = assertDoesNotThrow(() -> t.encode(bad, true), f);
            assertArrayEquals(t.encode("a\uFFFDb \uFFFDc\uFFFD", true), ids, f);
            assertDoesNotThrow(() -> t.encode("\uDBFF", false));
            assertDoesNotThrow(() -> t.encode("", true));
        }
    }

    @Test
    void everyModelFolderLoads() throws Exception {
        Path models = Shared.DIR.resolve("models");
        List<Path> dirs = new ArrayList<>();
        try (Stream<Path> s = Files.walk(models, 2)) {
            s.filter(p -> Files.isRegularFile(p.resolve("config.json")) || Files.isRegularFile(p.resolve("tokenizer.json")))
                    .forEach(dirs::add);
        }
        assertTrue(dirs.size() >= 10, dirs.toString());
        for (Path d : dirs) {
            Tokenizer t = Tokenizer.fromModelDir(d);
            String text = "Hello world, 123 tokens!";
            int[] ids = t.encode(text, false);
            assertTrue(ids.length > 0, d.toString());
            assertTrue(t.decode(ids, false).contains("Hello world"), d + ": " + t.decode(ids, false));
        }
    }

    @Test
    void llama2cTokenizer() {
        Tokenizer t = Tokenizer.fromModelDir(Shared.DIR.resolve("models/aidreams260K-hf"));
        assertEquals(512, t.vocabSize());
        int[] ids = t.encode("The robot dreamed of stars.", true);
        assertEquals(1, ids[0], "BOS");
        assertEquals("The robot dreamed of stars.", t.decode(ids, true));
        assertEquals(" ", t.token(t.encode("a", false)[0]).substring(0, 1), "dummy prefix space");
        assertEquals("ünï", t.decode(t.encode("ünï", false), false), "byte fallback round trip");
        assertEquals("<s>", t.specialTokens().get("bos_token"));
        assertEquals(1, t.tokenId("<s>").orElseThrow());
        assertEquals(2, t.tokenId(t.specialTokens().get("eos_token")).orElseThrow());
        assertTrue(t.isSpecial(2));
        int[] greedy = {1, 319, 459, 355, 260, 275, 429, 339, 315, 374, 327, 446, 262, 421, 392, 275, 280, 269};
        assertEquals("\"Echoes of vectors unfold, a gentle hum of pre", t.decode(greedy, true));
        assertArrayEquals(greedy, t.encode(t.decode(greedy, true), true));
    }

    @Test
    void streamingDecoderEmitsWholeCharacters() throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<String> texts = new ArrayList<>();
        for (String line : Files.readAllLines(Shared.DIR.resolve("golden/tokenizer/smollm2.jsonl"))) {
            String cat = json.readTree(line).get("category").asText();
            if (cat.equals("emoji") || cat.equals("unicode") || cat.equals("unicode_edge") || cat.equals("whitespace")) {
                texts.add(json.readTree(line).get("text").asText());
            }
        }
        texts.add("日本語のテキスト 🎉🎉 and ünïcödé\n\tend");
        for (String f : FAMILIES) {
            Tokenizer t = Shared.family(f);
            for (String text : texts) {
                for (boolean skip : new boolean[]{false, true}) {
                    int[] ids = t.encode(text, true);
                    String full = t.decode(ids, skip);
                    StreamingDecoder sd = t.streamingDecoder(skip);
                    StringBuilder sb = new StringBuilder();
                    for (int id : ids) {
                        String piece = sd.accept(id);
                        assertNotNull(piece);
                        if (!piece.isEmpty()) {
                            assertFalse(Character.isHighSurrogate(piece.charAt(piece.length() - 1)), f + " split surrogate");
                            if (!full.contains("\uFFFD")) {
                                assertFalse(piece.contains("\uFFFD"), f + ": broken char emitted for " + text);
                            }
                        }
                        sb.append(piece);
                    }
                    sb.append(sd.flush());
                    assertEquals(full, sb.toString(), f + " " + json.writeValueAsString(text));
                }
            }
        }
    }

    @Test
    void splittersAgreeWithJavaRegex() throws Exception {
        ObjectMapper json = new ObjectMapper();
        List<String> texts = new ArrayList<>();
        for (String line : Files.readAllLines(Shared.DIR.resolve("golden/tokenizer/smollm2.jsonl"))) {
            texts.add(json.readTree(line).get("text").asText());
        }
        texts.addAll(List.of("I'M here, you'Re 'll 'VE 'ſ x", "  \n\n  \r\n \t a  ", "(hello)\n\n\n", "12345 6789 ١٢٣",
                "😀abc 😀 😀😀 x\u00A0y\u2003z\u3000", "a\u0085b\u2028c", "   ", "\n", "'", "' ", "x'", "'s'S'ſ"));
        for (String regex : List.of(SplitPattern.GPT2, SplitPattern.LLAMA3, SplitPattern.QWEN2)) {
            SplitPattern hand = SplitPattern.regex(regex);
            SplitPattern java = new SplitPattern.JavaRegex(regex);
            assertNotEquals(hand.getClass(), java.getClass());
            for (String s : texts) {
                IntList a = new IntList();
                IntList b = new IntList();
                hand.find(s, a);
                java.find(s, b);
                assertArrayEquals(b.toArray(), a.toArray(), regex + " on " + json.writeValueAsString(s));
            }
        }
    }
}

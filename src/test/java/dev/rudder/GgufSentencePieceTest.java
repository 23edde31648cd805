package dev.rudder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.runtime.io.gguf.GgufValue;
import dev.rudder.runtime.io.gguf.GgufValueType;
import dev.rudder.runtime.io.gguf.GgufWriter;
import dev.rudder.tokenizer.Tokenizer;
import dev.rudder.tokenizer.TokenizerException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * SentencePiece ({@code tokenizer.ggml.model = llama}) vocabularies: a GGUF written the way llama.cpp's converter
 * writes a Llama-2-style vocabulary (tokens, scores, token types, {@code <0xNN>} byte tokens), made here from the phi3
 * {@code tokenizer.json} (score of a piece = minus the rank of the merge that makes it), must give the Hugging Face ids
 * of {@code golden/tokenizer/phi3.jsonl}. phi3 uses the legacy SentencePiece normalizer ({@code ▁} prepended to every
 * text segment), which is what llama.cpp does for every {@code llama} vocabulary. Not checked: lines holding an added
 * token that Hugging Face strips whitespace around ({@code rstrip}: GGUF does not carry the flag), and mistral, whose
 * {@code Metaspace(prepend_scheme=first)} prefixes only the start of the text and not a text already starting with a
 * space (9 of its 490 golden lines differ between that and llama.cpp's behaviour, which Rudder follows for GGUF).
 */
class GgufSentencePieceTest {
    static final Path SHARED = GgufTokenizerGoldenTest.SHARED;
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    static Path writeSpmGguf(String family, Path out, String model) throws Exception {
        JsonNode tj = JSON.readTree(SHARED.resolve("models/tokenizers/" + family + "/tokenizer.json").toFile());
        JsonNode vocab = tj.get("model").get("vocab");
        Map<Integer, String> byId = new HashMap<>();
        Map<String, Integer> ids = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            byId.put(e.getValue().asInt(), e.getKey());
            ids.put(e.getKey(), e.getValue().asInt());
        }
        Map<Integer, Boolean> addedSpecial = new HashMap<>();
        for (JsonNode a : tj.get("added_tokens")) {
            byId.put(a.get("id").asInt(), a.get("content").asText());
            addedSpecial.put(a.get("id").asInt(), a.get("special").asBoolean());
        }
        int n = byId.keySet().stream().mapToInt(Integer::intValue).max().orElseThrow() + 1;
        float[] scores = new float[n];
        Arrays.fill(scores, -1e9f);
        int rank = 0;
        for (JsonNode m : tj.get("model").get("merges")) {
            String merged = m.isArray() ? m.get(0).asText() + m.get(1).asText() : m.asText().replace(" ", "");
            Integer id = ids.get(merged);
            if (id != null && scores[id] == -1e9f) {
                scores[id] = -rank;
            }
            rank++;
        }
        List<String> tokens = new ArrayList<>();
        int[] types = new int[n];
        for (int i = 0; i < n; i++) {
            String t = byId.getOrDefault(i, "[PAD" + i + "]");
            tokens.add(t);
            if (t.equals("<unk>")) {
                types[i] = 2;
            } else if (addedSpecial.containsKey(i)) {
                types[i] = addedSpecial.get(i) ? 3 : 4;
            } else if (t.matches("<0x[0-9A-F]{2}>")) {
                types[i] = 6;
            } else {
                types[i] = 1;
                if (t.codePointCount(0, t.length()) == 1) {
                    scores[i] = 0f; // base pieces
                }
            }
        }
        new GgufWriter()
                .put("general.architecture", GgufValue.string("llama"))
                .put("tokenizer.ggml.model", GgufValue.string(model))
                .put("tokenizer.ggml.tokens", GgufValue.strings(tokens))
                .put("tokenizer.ggml.scores", GgufValue.floats(scores))
                .put("tokenizer.ggml.token_type", GgufValue.int32s(types))
                .put("tokenizer.ggml.bos_token_id", GgufValue.uint32(1))
                .put("tokenizer.ggml.eos_token_id", GgufValue.uint32(2))
                .put("tokenizer.ggml.unknown_token_id", GgufValue.uint32(0))
                .put("tokenizer.ggml.add_bos_token", GgufValue.bool(true))
                .write(out);
        return out;
    }

    @Test
    void sentencePieceVocabularyMatchesTheGolden() throws Exception {
        String family = "phi3";
        Tokenizer tok = ModelTokenizers.load(writeSpmGguf(family, tmp.resolve(family + ".gguf"), "llama"));
        List<String> stripped = new ArrayList<>();
        for (JsonNode a : JSON.readTree(SHARED.resolve("models/tokenizers/phi3/tokenizer.json").toFile()).get("added_tokens")) {
            if (a.get("rstrip").asBoolean() || a.get("lstrip").asBoolean()) {
                stripped.add(a.get("content").asText());
            }
        }
        List<String> lines = Files.readAllLines(SHARED.resolve("golden/tokenizer/" + family + ".jsonl"));
        List<String> wrong = new ArrayList<>();
        int checked = 0;
        for (String line : lines) {
            JsonNode o = JSON.readTree(line);
            String text = o.get("text").asText();
            if (stripped.stream().anyMatch(text::contains)) {
                continue;
            }
            checked++;
            int[] want = JSON.treeToValue(o.get("ids_no_special"), int[].class);
            int[] got = tok.encode(text, false);
            if (!Arrays.equals(want, got)) {
                wrong.add(o.get("text").toString() + " want " + Arrays.toString(want) + " got " + Arrays.toString(got));
            }
        }
        assertTrue(checked > 480, "lines checked: " + checked);
        assertEquals(List.of(), wrong.subList(0, Math.min(5, wrong.size())), wrong.size() + " of " + checked
                + " lines differ");
        assertArrayEquals(new int[] {1}, Arrays.copyOf(tok.encode("x", true), 1), "add_bos_token prepends BOS");
    }

    @Test
    void unknownModelOrPreTokenizerIsNamed() throws Exception {
        Path f = writeSpmGguf("phi3", tmp.resolve("x.gguf"), "rwkv");
        TokenizerException e = assertThrows(TokenizerException.class, () -> ModelTokenizers.load(f));
        assertTrue(e.getMessage().contains("tokenizer.ggml.model = rwkv") && e.getMessage().contains("x.gguf"),
                e.getMessage());
        Path g = tmp.resolve("pre.gguf");
        new GgufWriter().put("tokenizer.ggml.model", GgufValue.string("gpt2"))
                .put("tokenizer.ggml.pre", GgufValue.string("deepseek-coder"))
                .put("tokenizer.ggml.tokens", GgufValue.strings(List.of("a", "b", "ab")))
                .put("tokenizer.ggml.merges", GgufValue.strings(List.of("a b")))
                .write(g);
        e = assertThrows(TokenizerException.class, () -> ModelTokenizers.load(g));
        assertTrue(e.getMessage().contains("tokenizer.ggml.pre = deepseek-coder is not supported"), e.getMessage());
        assertEquals(GgufValueType.STRING, GgufValue.string("x").type());
    }
}

package dev.rudder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.tokenizer.Tokenizer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Tokenizers built from GGUF metadata ({@code ../shared/models/tokenizers-gguf}) give the Hugging Face ids of
 * {@code ../shared/golden/tokenizer/<family>.jsonl} ({@code ids_no_special}) for every line.
 */
class GgufTokenizerGoldenTest {
    static final Path SHARED = Path.of(System.getProperty("rudder.shared", "../../shared")).toAbsolutePath();
    static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest(name = "{0}.gguf gives ids_no_special of golden/tokenizer/{0}.jsonl")
    @ValueSource(strings = {"llama3", "qwen3", "smollm2"})
    void everyGoldenLineMatches(String family) throws Exception {
        Tokenizer tok = ModelTokenizers.load(SHARED.resolve("models/tokenizers-gguf/" + family + ".gguf"));
        List<String> lines = Files.readAllLines(SHARED.resolve("golden/tokenizer/" + family + ".jsonl"));
        List<String> wrong = new ArrayList<>();
        for (String line : lines) {
            JsonNode o = JSON.readTree(line);
            int[] want = JSON.treeToValue(o.get("ids_no_special"), int[].class);
            int[] got = tok.encode(o.get("text").asText(), false);
            if (!Arrays.equals(want, got)) {
                wrong.add(o.get("id").asText() + " " + o.get("text").toString() + " want " + Arrays.toString(want)
                        + " got " + Arrays.toString(got));
            }
        }
        assertTrue(lines.size() > 400, "golden lines: " + lines.size());
        assertEquals(List.of(), wrong.subList(0, Math.min(5, wrong.size())), wrong.size() + " of " + lines.size()
                + " lines differ");
    }

    @ParameterizedTest(name = "{0}.gguf decodes the golden ids back to the text")
    @ValueSource(strings = {"llama3", "qwen3", "smollm2"})
    void decodingMatchesTheGolden(String family) throws Exception {
        Tokenizer tok = ModelTokenizers.load(SHARED.resolve("models/tokenizers-gguf/" + family + ".gguf"));
        for (String line : Files.readAllLines(SHARED.resolve("golden/tokenizer/" + family + ".jsonl"))) {
            JsonNode o = JSON.readTree(line);
            int[] ids = JSON.treeToValue(o.get("ids_no_special"), int[].class);
            assertEquals(o.get("decoded_no_special").asText(), tok.decode(ids, false), o.get("id").asText());
        }
    }

    @ParameterizedTest(name = "{0}.gguf with tokenizer.ggml.pre = {1} gives the golden ids")
    @org.junit.jupiter.params.provider.CsvSource({"llama3, falcon3", "llama3, llama-v3", "llama3, pixtral",
            "qwen3, deepseek-r1-qwen", "qwen3, megrez"})
    void llamaCppsOtherNamesForAPreTokenizerGiveTheSameIds(String family, String alias) throws Exception {
        java.util.Map<String, Object> md;
        try (dev.rudder.runtime.io.gguf.GgufFile g = dev.rudder.runtime.io.gguf.GgufFile.open(
                SHARED.resolve("models/tokenizers-gguf/" + family + ".gguf"))) {
            md = new java.util.LinkedHashMap<>(g.plainMetadata());
        }
        md.put("tokenizer.ggml.pre", alias);
        Tokenizer tok = dev.rudder.tokenizer.GgufTokenizer.fromMetadata(md, family + " as " + alias);
        int checked = 0;
        for (String line : Files.readAllLines(SHARED.resolve("golden/tokenizer/" + family + ".jsonl"))) {
            JsonNode o = JSON.readTree(line);
            assertArrayEquals(JSON.treeToValue(o.get("ids_no_special"), int[].class), tok.encode(o.get("text").asText(), false),
                    o.get("id").asText());
            checked++;
        }
        assertTrue(checked > 400);
        md.put("tokenizer.ggml.pre", "tekken");
        java.util.Map<String, Object> unknown = md;
        String msg = assertThrows(dev.rudder.tokenizer.TokenizerException.class,
                () -> dev.rudder.tokenizer.GgufTokenizer.fromMetadata(unknown, "x.gguf")).getMessage();
        assertTrue(msg.contains("tokenizer.ggml.pre = tekken is not supported") && msg.contains("deepseek-r1-qwen"), msg);
    }
}

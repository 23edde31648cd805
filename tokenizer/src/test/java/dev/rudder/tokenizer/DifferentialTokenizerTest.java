package dev.rudder.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.zip.GZIPInputStream;

import static dev.rudder.tokenizer.GoldenTokenizerTest.check;
import static dev.rudder.tokenizer.GoldenTokenizerTest.checkGoldenFields;
import static dev.rudder.tokenizer.GoldenTokenizerTest.ints;
import static dev.rudder.tokenizer.GoldenTokenizerTest.strings;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Strings from the differential harness against the Hugging Face {@code tokenizers} library (resources
 * {@code differential/}, see its README): the minimised cases of every mismatch it found, seeded random strings, and
 * tokenizer.json variants with the normalizers and pre-tokenizers of other model families.
 * Every field of a line is compared except the character offsets, which Rudder does not compute.
 */
class DifferentialTokenizerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest(name = "{0}: minimised mismatches now match the tokenizers library")
    @ValueSource(strings = {"llama3", "mistral", "phi3", "qwen3", "smollm2", "rudder-chat"})
    void minimisedMismatchesMatchTheReferenceLibrary(String family) throws IOException {
        assertAllLinesMatch(family, "differential/" + family + ".jsonl");
    }

    @ParameterizedTest(name = "{0}: seeded random strings match the tokenizers library")
    @ValueSource(strings = {"llama3", "mistral", "phi3", "qwen3", "smollm2", "rudder-chat"})
    void randomStringsMatchTheReferenceLibrary(String family) throws IOException {
        assertAllLinesMatch(family, "differential/" + family + "-random.jsonl.gz");
    }

    /**
     * tokenizer.json files of the shared families with the normalizer, pre-tokenizer and extra added tokens of other
     * model families ({@code differential/variants-spec.json}): Lowercase, Whitespace, Split / Replace regexes that
     * run on java.util.regex in their Oniguruma reading, single_word / lstrip / rstrip / normalized added tokens.
     * The lines also hold the library's normalized text and pre-tokens.
     */
    @ParameterizedTest(name = "tokenizer.json variant {0} matches the tokenizers library")
    @MethodSource("variants")
    void tokenizerJsonVariantsMatchTheReferenceLibrary(String variant) throws IOException {
        JsonNode spec = JSON.readTree(String.join("\n", read("differential/variants-spec.json"))).get(variant);
        String base = spec.get("base").asText();
        ObjectNode root = BASES.computeIfAbsent(base, b -> TokenizerJson.readJson(tokenizerJson(b))).deepCopy();
        root.set("normalizer", spec.get("normalizer"));
        root.set("pre_tokenizer", spec.get("pre_tokenizer"));
        root.withArray("added_tokens").addAll((com.fasterxml.jackson.databind.node.ArrayNode) spec.get("added_tokens"));
        Tokenizer tok = TokenizerJson.parse(root, tokenizerJson(base), new LinkedHashMap<>(), null);
        assertAllLinesMatch(tok, "differential/variants.jsonl", g -> g.get("variant").asText().equals(variant));
    }

    static List<String> variants() throws IOException {
        List<String> names = new ArrayList<>();
        JSON.readTree(String.join("\n", read("differential/variants-spec.json"))).fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static final Map<String, JsonNode> BASES = new ConcurrentHashMap<>();

    private static Path tokenizerJson(String family) {
        return Shared.tokenizers().resolve(family).resolve("tokenizer.json");
    }

    private static void assertAllLinesMatch(String family, String resource) throws IOException {
        assertAllLinesMatch(Shared.family(family), resource, g -> true);
    }

    private static void assertAllLinesMatch(Tokenizer tok, String resource, Predicate<JsonNode> selected)
            throws IOException {
        List<String> failures = new ArrayList<>();
        int lines = 0;
        for (String line : read(resource)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode g = JSON.readTree(line);
            if (!selected.test(g)) {
                continue;
            }
            lines++;
            String text = g.get("text").asText();
            List<String> diffs = new ArrayList<>();
            try {
                if (g.has("normalized")) {
                    check(diffs, "normalized", g.get("normalized").asText(), tok.normalize(text));
                    check(diffs, "pre_tokens", strings(g.get("pre_tokens")), tok.preTokenize(g.get("normalized").asText()));
                }
                checkGoldenFields(diffs, tok, g);
                int[] randomIds = ints(g.get("random_ids"));
                check(diffs, "random_decoded", g.get("random_decoded").asText(), tok.decode(randomIds, false));
                check(diffs, "random_decoded_skip_special", g.get("random_decoded_skip_special").asText(),
                        tok.decode(randomIds, true));
            } catch (RuntimeException e) {
                diffs.add("exception " + e);
            }
            if (!diffs.isEmpty()) {
                failures.add(g.get("id").asText() + " [" + g.get("category").asText() + "] "
                        + JSON.valueToTree(text) + ": " + String.join("; ", diffs));
            }
        }
        if (!failures.isEmpty()) {
            fail(resource + ": " + failures.size() + " of " + lines + " lines differ:\n"
                    + String.join("\n", failures.subList(0, Math.min(20, failures.size()))));
        }
        assertTrue(lines > 0, resource + " has no lines");
    }

    private static List<String> read(String resource) throws IOException {
        InputStream in = DifferentialTokenizerTest.class.getClassLoader().getResourceAsStream(resource);
        if (in == null) {
            throw new IOException("test resource " + resource + " is missing");
        }
        if (resource.endsWith(".gz")) {
            in = new GZIPInputStream(in);
        }
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            return r.lines().toList();
        }
    }
}

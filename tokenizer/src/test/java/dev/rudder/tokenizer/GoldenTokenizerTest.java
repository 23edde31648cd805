package dev.rudder.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Every line of shared/golden/tokenizer/FAMILY.jsonl must match exactly (offsets are not compared). */
class GoldenTokenizerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @ValueSource(strings = {"mistral", "phi3", "smollm2", "rudder-chat", "llama3", "qwen3"})
    void goldenFile(String family) throws Exception {
        Path file = Shared.DIR.resolve("golden/tokenizer/" + family + ".jsonl");
        Tokenizer tok = Shared.family(family);
        List<String> lines = Files.readAllLines(file);
        List<String> failures = new ArrayList<>();
        int passed = 0;
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode g = JSON.readTree(line);
            String id = g.get("id").asText();
            List<String> diffs = new ArrayList<>();
            try {
                checkGoldenFields(diffs, tok, g);
            } catch (RuntimeException e) {
                diffs.add("exception " + e);
            }
            if (diffs.isEmpty()) {
                passed++;
            } else {
                failures.add(id + " [" + g.get("category").asText() + "] " + String.join("; ", diffs));
            }
        }
        System.out.printf("golden tokenizer %-12s %d/%d lines pass%n", family, passed, passed + failures.size());
        if (!failures.isEmpty()) {
            fail(family + ": " + failures.size() + " of " + (passed + failures.size()) + " lines differ:\n"
                    + String.join("\n", failures.subList(0, Math.min(25, failures.size()))));
        }
        assertTrue(passed > 0);
    }

    /** Compares the fields of a golden line (ids, tokens, mask with and without special tokens; decodes) into diffs. */
    static void checkGoldenFields(List<String> diffs, Tokenizer tok, JsonNode g) {
        String text = g.get("text").asText();
        Encoding with = tok.encodeDetailed(text, true);
        Encoding without = tok.encodeDetailed(text, false);
        check(diffs, "ids", ints(g.get("ids")), with.ids());
        check(diffs, "tokens", strings(g.get("tokens")), with.tokens());
        check(diffs, "special_tokens_mask", ints(g.get("special_tokens_mask")), with.specialTokensMask());
        check(diffs, "ids_no_special", ints(g.get("ids_no_special")), without.ids());
        check(diffs, "tokens_no_special", strings(g.get("tokens_no_special")), without.tokens());
        check(diffs, "encode()", ints(g.get("ids")), tok.encode(text, true));
        check(diffs, "decoded", g.get("decoded").asText(), tok.decode(ints(g.get("ids")), false));
        check(diffs, "decoded_skip_special", g.get("decoded_skip_special").asText(),
                tok.decode(ints(g.get("ids")), true));
        check(diffs, "decoded_no_special", g.get("decoded_no_special").asText(),
                tok.decode(ints(g.get("ids_no_special")), false));
    }

    static void check(List<String> diffs, String field, Object expected, Object actual) {
        boolean eq = expected instanceof int[] e && actual instanceof int[] a ? Arrays.equals(e, a) : expected.equals(actual);
        if (!eq) {
            diffs.add(field + ": expected " + show(expected) + " got " + show(actual));
        }
    }

    private static String show(Object o) {
        String s = o instanceof int[] a ? Arrays.toString(a) : o instanceof String str ? JSON.valueToTree(str).toString() : String.valueOf(o);
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }

    static int[] ints(JsonNode n) {
        int[] a = new int[n.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = n.get(i).asInt();
        }
        return a;
    }

    static List<String> strings(JsonNode n) {
        List<String> l = new ArrayList<>();
        n.forEach(x -> l.add(x.asText()));
        return l;
    }
}

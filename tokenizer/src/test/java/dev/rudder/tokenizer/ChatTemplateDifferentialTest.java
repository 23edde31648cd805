package dev.rudder.tokenizer;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Seeded random conversations (quotes, braces, CRLF, emoji, RTL, special-token text, role orders that make
 * templates raise) rendered by {@code @huggingface/jinja}: Rudder renders the same bytes, or fails where it fails.
 * Cases: resource {@code chatdiff/random.jsonl.gz} (see chatdiff/README.md); set CHATFUZZ_CASES to a .jsonl
 * file to replay a larger run of the generator instead.
 */
class ChatTemplateDifferentialTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void rendersRandomConversationsLikeHuggingFaceJinja() throws Exception {
        String external = System.getenv("CHATFUZZ_CASES");
        List<String> failures = new ArrayList<>();
        Map<String, ChatTemplate> templates = new HashMap<>();
        Map<String, int[]> counts = new LinkedHashMap<>();
        try (BufferedReader in = open(external)) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode g = JSON.readTree(line);
                String source = g.get("template_source").asText();
                ChatTemplate template = templates.computeIfAbsent(source, s -> load(s));
                Map<String, Object> ctx = JSON.convertValue(g.get("context"), new TypeReference<LinkedHashMap<String, Object>>() {
                });
                String diff = null;
                try {
                    String rendered = template.renderContext(ctx);
                    if (g.has("error")) {
                        diff = "expected error \"" + g.get("error").asText() + "\" but rendered " + JSON.valueToTree(rendered);
                    } else if (!rendered.equals(g.get("rendered").asText())) {
                        diff = "rendered " + JSON.valueToTree(rendered) + "\n   expected " + g.get("rendered");
                    }
                } catch (ChatTemplateException e) {
                    if (!g.has("error")) {
                        diff = "unexpected error: " + e.getMessage();
                    }
                }
                int[] c = counts.computeIfAbsent(g.get("template").asText(), k -> new int[2]);
                c[0]++;
                if (diff != null) {
                    c[1]++;
                    failures.add(g.get("id").asText() + ": " + diff);
                }
            }
        }
        counts.forEach((k, c) -> System.out.printf("chat differential %-48s %d/%d conversations match%n", k, c[0] - c[1], c[0]));
        if (!failures.isEmpty()) {
            fail(failures.size() + " conversations differ:\n" + String.join("\n", failures.subList(0, Math.min(20, failures.size()))));
        }
        assertTrue(counts.size() >= 10, "every template has cases");
    }

    private static BufferedReader open(String external) throws Exception {
        InputStream raw = external != null ? Files.newInputStream(Path.of(external))
                : ChatTemplateDifferentialTest.class.getResourceAsStream("/chatdiff/random.jsonl.gz");
        if (raw == null) {
            throw new IllegalStateException("missing resource chatdiff/random.jsonl.gz");
        }
        InputStream s = external != null && !external.endsWith(".gz") ? raw : new GZIPInputStream(raw);
        return new BufferedReader(new InputStreamReader(s, StandardCharsets.UTF_8));
    }

    private static ChatTemplate load(String source) {
        try {
            return GoldenChatTest.templateFor(source, null);
        } catch (Exception e) {
            throw new IllegalStateException(source, e);
        }
    }
}

package dev.rudder.tokenizer;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Every line of shared/golden/chat/*.jsonl: the rendered text (or the raised error) and its ids. */
class GoldenChatTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest
    @ValueSource(strings = {"llama3", "llama3__meta-llama-Llama-3.1-8B-Instruct", "llama3__meta-llama-Llama-3.2-3B-Instruct",
            "mistral", "mistral__mistralai-Mistral-Nemo-Instruct-2407", "phi3", "phi3__microsoft-Phi-3.5-mini-instruct",
            "qwen3", "qwen3__Qwen-Qwen2.5-7B-Instruct", "rudder-chat"})
    void goldenFile(String name) throws Exception {
        Path file = Shared.DIR.resolve("golden/chat/" + name + ".jsonl");
        List<String> failures = new ArrayList<>();
        int passed = 0;
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode g = JSON.readTree(line);
            String id = g.get("id").asText();
            String family = g.get("tokenizer").asText().split("/")[0];
            Tokenizer tok = Shared.family(family);
            ChatTemplate template = templateFor(g.get("template_source").asText(), tok);
            Map<String, Object> ctx = JSON.convertValue(g.get("context"), new TypeReference<LinkedHashMap<String, Object>>() {
            });
            @SuppressWarnings("unchecked") List<Map<String, Object>> messages = (List<Map<String, Object>>) ctx.remove("messages");
            boolean agp = (Boolean) ctx.remove("add_generation_prompt");
            String diff = null;
            try {
                String rendered = template.render(messages, agp, ctx);
                if (g.has("error")) {
                    diff = "expected error \"" + g.get("error").asText() + "\" but rendered " + JSON.valueToTree(rendered);
                } else if (!rendered.equals(g.get("rendered").asText())) {
                    diff = "rendered " + JSON.valueToTree(rendered) + "\n   expected " + g.get("rendered");
                } else {
                    int[] ids = tok.encode(rendered, false);
                    if (!java.util.Arrays.equals(ids, GoldenTokenizerTest.ints(g.get("ids")))) {
                        diff = "ids " + java.util.Arrays.toString(ids) + " expected " + g.get("ids");
                    }
                }
            } catch (ChatTemplateException e) {
                if (!g.has("error")) {
                    diff = "unexpected error: " + e.getMessage();
                } else if (!e.getMessage().equals(g.get("error").asText())) {
                    diff = "error \"" + e.getMessage() + "\" expected \"" + g.get("error").asText() + "\"";
                }
            }
            if (diff == null) {
                passed++;
            } else {
                failures.add(id + ": " + diff);
            }
        }
        System.out.printf("golden chat %-48s %d/%d lines pass%n", name, passed, passed + failures.size());
        if (!failures.isEmpty()) {
            fail(name + ": " + failures.size() + " lines differ:\n" + String.join("\n", failures.subList(0, Math.min(10, failures.size()))));
        }
        assertTrue(passed > 0);
    }

    /** "mistral/chat_template.json#chat_template", "phi3/tokenizer_config.json#chat_template", "x/extra_templates/y.jinja". */
    static ChatTemplate templateFor(String source, Tokenizer tok) throws Exception {
        String path = source.contains("#") ? source.substring(0, source.indexOf('#')) : source;
        Path p = Shared.tokenizers().resolve(path);
        if (path.endsWith(".jinja")) {
            return ChatTemplate.of(Files.readString(p));
        }
        if (path.endsWith("tokenizer_config.json") || path.endsWith("chat_template.json")) {
            JsonNode n = JSON.readTree(p.toFile()).get(source.substring(source.indexOf('#') + 1));
            return ChatTemplate.of(n.asText());
        }
        return tok.chatTemplate().orElseThrow();
    }
}

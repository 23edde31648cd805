package dev.rudder.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.rudder.cli.TokenizeCommandTest.SHARED;
import static dev.rudder.cli.TokenizeCommandTest.run;
import static org.junit.jupiter.api.Assertions.*;

class TemplateCommandTest {
    static final String TOK = SHARED.resolve("models/tokenizers").toString();

    @Test
    void rendersOneJsonStringPerLine() throws Exception {
        String in = "{\"messages\":[{\"role\":\"user\",\"content\":\"Hello!\"}],\"add_generation_prompt\":true}\n"
                + "{\"messages\":[{\"role\":\"user\",\"content\":\"Hello!\"}]}\n";
        TokenizeCommandTest.Result r = run(in, "template", "-m", TOK + "/rudder-chat");
        assertEquals(0, r.code(), r.err());
        ObjectMapper m = new ObjectMapper();
        List<String> lines = r.out().lines().toList();
        assertEquals(2, lines.size(), r.out());
        assertEquals("<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n", m.readTree(lines.get(0)).asText());
        assertEquals("<|im_start|>user\nHello!<|im_end|>\n", m.readTree(lines.get(1)).asText());
    }

    @Test
    void specialTokensFromConfigAndErrorsAsObjects() throws Exception {
        // mistral: bos_token comes from tokenizer_config.json; a system message makes the template raise
        String in = "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}\n"
                + "{\"messages\":[{\"role\":\"system\",\"content\":\"S\"},{\"role\":\"user\",\"content\":\"Hi\"}]}\n"
                + "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"bos_token\":\"<BOS>\"}\n";
        TokenizeCommandTest.Result r = run(in, "template", "-m", TOK + "/mistral");
        assertEquals(0, r.code(), r.err());
        ObjectMapper m = new ObjectMapper();
        List<String> lines = r.out().lines().toList();
        assertEquals("<s>[INST] Hi [/INST]", m.readTree(lines.get(0)).asText());
        assertEquals("Conversation roles must alternate user/assistant/user/assistant/...",
                m.readTree(lines.get(1)).get("error").asText());
        assertEquals("<BOS>[INST] Hi [/INST]", m.readTree(lines.get(2)).asText());
    }

    @Test
    void templateFileOverridesAndExtraVariables(@TempDir Path tmp) throws Exception {
        Path t = tmp.resolve("t.jinja");
        Files.writeString(t, "{% for m in messages %}{{ m.role | upper }}: {{ m.content }}\n{% endfor %}{{ greeting }}{{ eos_token }}");
        String in = "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"}],\"greeting\":\"hey\"}\n";
        TokenizeCommandTest.Result r = run(in, "template", "-m", TOK + "/qwen3", "--template", t.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("USER: a\nhey<|im_end|>", new ObjectMapper().readTree(r.out().strip()).asText());
    }

    @Test
    void modelWithoutTemplateOrBadLineIsExitOne() {
        TokenizeCommandTest.Result r = run("{\"messages\":[]}\n", "template", "-m", TOK + "/smollm2");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("no chat template"), r.err());
        r = run("{oops\n", "template", "-m", TOK + "/rudder-chat");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("stdin line 1"), r.err());
        r = run("{\"messages\": 3}\n", "template", "-m", TOK + "/rudder-chat");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("messages"), r.err());
    }
}

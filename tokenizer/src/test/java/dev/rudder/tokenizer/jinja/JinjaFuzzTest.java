package dev.rudder.tokenizer.jinja;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Coverage-guided fuzzing of the Jinja lexer, parser and interpreter (issue 11). Any template
 * must end in a rendered string or a {@link JinjaException}; anything else (another exception,
 * an Error, a hang past Jazzer's per-input timeout) is a finding. In `mvn verify` this runs the
 * seed inputs under src/test/resources/.../JinjaFuzzTestInputs; `JAZZER_FUZZ=1` fuzzes (see
 * the notes / README for the command).
 */
class JinjaFuzzTest {
    /** Tighter than the defaults so that each input stays fast while fuzzing. */
    private static final Limits LIMITS = new Limits(5_000, 1 << 14, 1 << 10, 200, 64);

    @FuzzTest(maxDuration = "10s")
    void templatesRenderOrFailWithAJinjaException(byte[] input) {
        String source = new String(input, StandardCharsets.UTF_8);
        JinjaTemplate t;
        try {
            t = JinjaTemplate.parse(source, "fuzz", LIMITS);
        } catch (JinjaException expected) {
            return;
        }
        try {
            t.render(Map.of("messages", List.of(Map.of("role", "user", "content", "hi"),
                            Map.of("role", "assistant", "content", "ok")),
                    "add_generation_prompt", true, "bos_token", "<s>", "eos_token", "</s>"));
        } catch (JinjaException expected) {
            // a template error, a raise_exception or a sandbox limit: all fine
        }
    }
}

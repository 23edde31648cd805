package dev.rudder.tokenizer.jinja;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** {% generation %} tags are stripped in linear time, exactly as the reference's regex did. */
class GenerationTagsTest {
    /** The reference's rule as a regex: the oracle for short inputs (it is quadratic in whitespace runs). */
    private static final Pattern ORACLE = Pattern.compile("(" + Lexer.JS_SPACE + "*)\\{%(-?)" + Lexer.JS_SPACE
            + "*(?:end)?generation" + Lexer.JS_SPACE + "*(-?)%\\}(" + Lexer.JS_SPACE + "*)", Pattern.DOTALL);

    private static String oracle(String t) {
        Matcher m = ORACLE.matcher(t);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, Matcher.quoteReplacement(
                    (m.group(2).isEmpty() ? m.group(1) : "") + (m.group(3).isEmpty() ? m.group(4) : "")));
        }
        return m.appendTail(sb).toString();
    }

    @Test
    void matchesTheRegexOnRandomTemplates() {
        String[] parts = {" ", "  ", "\n", "\t", "a", "b", "{%", "%}", "-", "{% generation %}", "{%- generation -%}",
                "{% endgeneration %}", "{%-endgeneration%}", "{% generation -%}", "{%- endgeneration %}", "{{ x }}",
                "end", "generation", "{% if %}", "\u3000"};
        Random r = new Random(11);
        for (int i = 0; i < 20_000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = r.nextInt(12);
            for (int k = 0; k < n; k++) {
                sb.append(parts[r.nextInt(parts.length)]);
            }
            String t = sb.toString();
            assertEquals(oracle(t), Lexer.stripGenerationTags(t), t);
        }
    }

    @Test
    void longWhitespaceRunsAreLinear() {
        String spaces = " ".repeat(500_000);
        String t = "a" + spaces + "{% generation %}" + spaces + "b" + spaces + "{%- endgeneration -%}" + spaces + "c" + spaces;
        String out = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> Lexer.stripGenerationTags(t));
        assertEquals("a" + spaces + spaces + "b" + "c" + spaces, out);
        assertTimeoutPreemptively(Duration.ofSeconds(20),
                () -> JinjaTemplate.parse(spaces + "{{ 1 }}" + spaces, "t", Limits.DEFAULT).render(java.util.Map.of()));
    }
}

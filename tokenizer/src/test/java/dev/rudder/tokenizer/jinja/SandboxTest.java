package dev.rudder.tokenizer.jinja;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile chat templates (issue 11): each one ends in a {@link JinjaException} naming the
 * template's origin and the sandbox limit it broke, quickly, never an Error or a hang. The time
 * bound is generous (a shared 2-core machine) and only there to turn a hang into a failure.
 */
class SandboxTest {
    private static final Duration BOUND = Duration.ofSeconds(20);
    private static final String ORIGIN = "chat template in /models/evil/tokenizer_config.json";

    private static JinjaException fails(String source) {
        return assertTimeoutPreemptively(BOUND, () -> assertThrows(JinjaException.class,
                () -> JinjaTemplate.parse(source, ORIGIN, Limits.DEFAULT).render(Map.of("messages", List.of()))));
    }

    private static void failsWith(String source, String limit) {
        JinjaException e = fails(source);
        assertTrue(e.getMessage().startsWith(ORIGIN + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("sandbox limit on " + limit), e.getMessage());
        assertTrue(!e.raised());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiterString = "@@", quoteCharacter = '"', textBlock = """
            {% for i in range(100000000) %}{% endfor %}                                       @@ range size
            {% for i in range(-5, 9223372036854775807) %}{% endfor %}                         @@ range size
            {% for i in range(9223372036854775807, -9223372036854775807, -1) %}{% endfor %}   @@ range size
            {% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}  @@ evaluation steps
            {% for i in range(100000) %}{% for j in range(100000) %}{{ '' }}{% endfor %}{% endfor %} @@ evaluation steps
            {{ 'x' * 2000000000 }}                                                            @@ string length
            {{ 'xy' * 9223372036854775807 }}                                                  @@ string length
            {% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %} @@ string length
            {% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %} @@ string length
            {% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %} @@ list length
            {% for i in range(100000) %}{{ 'x' * 10000 }}{% endfor %}                         @@ string length
            {% set s = 'x' * 10000000 %}{{ s.replace('', 'abc') }}                            @@ string length
            {% set s = 'x' * 10000000 %}{{ s.replace('x', 'abc') }}                           @@ string length
            {% set s = 'a,' * 8000000 %}{{ s.split(',') | length }}                           @@ list length
            {% set s = 'x' * 8000000 %}{{ s | list | length }}                                @@ list length
            {% set s = 'x' * 8000000 %}{% for c in s %}{% endfor %}                           @@ list length
            {{ 'a\\nb' | indent(2000000000) }}                                                @@ string length
            {% set s = 'x' * 10000000 %}{{ s | join(', ') }}                                  @@ string length
            {% set l = range(100000) | list %}{{ (l | join('x' * 200)) }}                     @@ string length
            {{ [1, [2]] | tojson(indent=1000000000) }}                                        @@ tojson indent
            {% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}                            @@ nesting depth
            {% set ns = namespace() %}{% set ns.self = ns %}{{ ns | tojson }}                 @@ value nesting depth
            """)
    void hostileTemplatesBreakANamedLimit(String source, String limit) {
        failsWith(source.replace("\\n", "\n"), limit);
    }

    @Test
    void fiveThousandNestedIfsAreRefusedByTheParser() {
        String src = "{% if true %}".repeat(5000) + "x" + "{% endif %}".repeat(5000);
        failsWith(src, "nesting depth");
    }

    @Test
    void fiveThousandNestedParenthesesAndOperatorsAreRefused() {
        failsWith("{{ " + "(".repeat(5000) + "1" + ")".repeat(5000) + " }}", "nesting depth");
        failsWith("{{ " + "[".repeat(5000) + "1" + "]".repeat(5000) + " }}", "nesting depth");
        failsWith("{{ " + "not ".repeat(5000) + "1 }}", "nesting depth");
        failsWith("{{ " + "-".repeat(5000) + "1 }}", "nesting depth");
        failsWith("{{ " + "1 if true else ".repeat(5000) + "1 }}", "nesting depth");
        failsWith("{% if false %}{% " + "elif false %}{% ".repeat(5000) + "endif %}", "nesting depth");
        // left-deep trees the parser builds in a loop are caught by the interpreter
        failsWith("{{ 1" + " + 1".repeat(20000) + " }}", "nesting depth");
        failsWith("{{ x" + ".a".repeat(20000) + " }}", "nesting depth");
        failsWith("{{ x" + "|string".repeat(20000) + " }}", "nesting depth");
    }

    @Test
    void hugeNumberLiteralIsASyntaxError() {
        JinjaException e = fails("{{ 99999999999999999999999 }}");
        assertTrue(e.getMessage().startsWith(ORIGIN + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("out of range"), e.getMessage());
    }

    @Test
    void raisedMessagesStayExact() {
        JinjaException e = fails("{{ raise_exception('Conversation roles must alternate') }}");
        assertTrue(e.raised());
        assertEquals("Conversation roles must alternate", e.getMessage());
    }

    @Test
    void limitsAreConfigurableAndTheDefaultsLeaveRoomForRealTemplates() {
        Limits tight = new Limits(1000, 100, 10, 10, 5);
        JinjaException e = assertThrows(JinjaException.class,
                () -> JinjaTemplate.parse("{% for i in range(11) %}{% endfor %}", "t", tight).render(Map.of()));
        assertTrue(e.getMessage().contains("range size (10)"), e.getMessage());
        // just under each default bound renders
        String ok = JinjaTemplate.parse("{% for i in range(100000) %}{% endfor %}{{ ('x' * 1000000) | length }}",
                "t", Limits.DEFAULT).render(Map.of());
        assertEquals("1000000", ok);
        String deep = JinjaTemplate.parse("{{ " + "(".repeat(50) + "1" + ")".repeat(50) + " }}").render(Map.of());
        assertEquals("1", deep);
    }

    @Test
    void deeplyNestedContextValuesFailCleanly() {
        Object v = "leaf";
        for (int i = 0; i < 5000; i++) {
            v = List.of(v);
        }
        Object nested = v;
        JinjaException e = assertTimeoutPreemptively(BOUND, () -> assertThrows(JinjaException.class,
                () -> JinjaTemplate.parse("{{ x | tojson }}", ORIGIN, Limits.DEFAULT).render(Map.of("x", nested))));
        assertTrue(e.getMessage().startsWith(ORIGIN), e.getMessage());
    }
}

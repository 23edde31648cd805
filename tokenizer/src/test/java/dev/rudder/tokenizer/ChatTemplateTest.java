package dev.rudder.tokenizer;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Jinja features used by chat templates, with @huggingface/jinja semantics. */
class ChatTemplateTest {
    private static String render(String tpl, Map<String, Object> vars) {
        return ChatTemplate.of(tpl).renderContext(new LinkedHashMap<>(vars));
    }

    private static String render(String tpl) {
        return render(tpl, Map.of());
    }

    @Test
    void raiseExceptionCarriesTheMessage() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> render("{{ raise_exception('Roles must alternate!') }}"));
        assertEquals("Roles must alternate!", e.getMessage());
    }

    @Test
    void whitespaceControlTrimAndLstripBlocks() {
        assertEquals("a\nb", render("{% if true %}\na\n{% endif %}\nb"));
        assertEquals("xy", render("x   {%- if true -%}   y   {%- endif %}"));
        assertEquals("  1", render("  {{ 1 }}"), "lstrip_blocks does not touch {{");
        assertEquals("1\n2\n", render("{% for i in [1,2] %}\n    {{- i }}\n{% endfor %}"));
        assertEquals("a", render("a\n"), "one trailing newline is dropped");
        assertEquals("ab", render("a{# comment #}b"));
    }

    @Test
    void stringMethodsAndFilters() {
        assertEquals("hi|x|y", render("{{ '  hi  '.strip() }}|{{ '\\n\\nx\\n'.strip('\\n') }}|{{ 'y\\n'.rstrip() }}"));
        assertEquals("True", render("{{ 'True' if 'abc'.startswith('ab') and 'abc'.endswith(('x', 'c')) else 'False' }}"));
        assertEquals("b|c", render("{{ 'a</think>b'.split('</think>')[-1] }}|{{ ('a b  c'.split())[2] }}"));
        assertEquals("HELLO World 5 3", render("{{ 'hello' | upper }} {{ 'world' | capitalize }} {{ 'hello' | length }} {{ [1,2,3] | length }}"));
        assertEquals("a, b", render("{{ ['a', 'b'] | join(', ') }}"));
        assertEquals("x", render("{{ '  x ' | trim }}"));
    }

    @Test
    void slicingNamespaceLoops() {
        assertEquals("321", render("{% for x in [1,2,3][::-1] %}{{ x }}{% endfor %}"));
        assertEquals("[2, 3]|ab", render("{{ [1,2,3][1:] | tojson }}|{{ 'abc'[:-1] }}"));
        assertEquals("3", render("{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}"));
        assertEquals("1,2!", render("{% for i in [1,2,3,4] %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% if not loop.last and i < 2 %},{% endif %}{% endfor %}!"));
        assertEquals("13", render("{% for i in [1,2,3] %}{% if i == 2 %}{% continue %}{% endif %}{{ i }}{% endfor %}"));
        assertEquals("empty", render("{% for i in [] %}{{ i }}{% else %}empty{% endfor %}"));
        assertEquals("0a1b", render("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ loop.index0 }}{{ k }}{% endfor %}"));
        assertEquals("b", render("{% for k, v in {'a': 1, 'b': 2}.items() if v > 1 %}{{ k }}{% endfor %}"));
    }

    @Test
    void definedNoneAndTests() {
        Map<String, Object> vars = new LinkedHashMap<>();
        vars.put("x", null);
        assertEquals("undef none", render("{{ 'def' if y is defined else 'undef' }} {{ 'none' if x is none else 'x' }}", vars));
        assertEquals("ok", render("{% if not tools is defined %}ok{% endif %}"));
        assertEquals("str map", render("{{ 'str' if 'a' is string }} {{ 'map' if {'a': 1} is mapping }}"));
        assertEquals("u", render("{{ messages[0]['role'] }}u", Map.of("messages", List.of())), "missing index is undefined");
    }

    @Test
    void tojsonLikeTheReference() {
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("name", "get_weather");
        tool.put("parameters", Map.of("city", "Paris \"FR\"\n"));
        assertEquals("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris \\\"FR\\\"\\n\"}}",
                render("{{ t | tojson }}", Map.of("t", tool)));
        assertEquals("{\n    \"a\": [\n        1,\n        2\n    ]\n}", render("{{ {'a': [1, 2]} | tojson(indent=4) }}"));
    }

    @Test
    void macrosAndSelectattr() {
        assertEquals("<b>x</b><b>y</b>", render("{% macro b(t) %}<b>{{ t }}</b>{% endmacro %}{{ b('x') }}{{ b(t='y') }}"));
        List<Map<String, Object>> msgs = List.of(Map.of("role", "user", "content", "a"), Map.of("role", "assistant", "content", "b"),
                Map.of("role", "user", "content", "c"));
        assertEquals("ac", render("{% for m in messages | selectattr('role', 'equalto', 'user') %}{{ m.content }}{% endfor %}",
                Map.of("messages", msgs)));
        assertEquals("c", render("{{ (messages | selectattr('role', 'equalto', 'user') | list)[-1].content }}", Map.of("messages", msgs)));
    }

    @Test
    void strftimeNowExists() {
        String s = render("{{ strftime_now('%d %b %Y') }}");
        assertTrue(s.matches("\\d\\d [A-Z][a-z]{2} \\d{4}"), s);
    }

    @Test
    void syntaxErrorsAreChatTemplateExceptions() {
        assertThrows(ChatTemplateException.class, () -> ChatTemplate.of("{% if x %}no end"));
        assertThrows(ChatTemplateException.class, () -> ChatTemplate.of("{{ 'unterminated }}"));
        assertThrows(ChatTemplateException.class, () -> render("{{ undefined_thing + 1 }}"));
    }

    @Test
    void renderApi() {
        ChatTemplate t = ChatTemplate.of("{% for m in messages %}{{ m.role }}:{{ m.content }};{% endfor %}"
                + "{% if add_generation_prompt %}assistant:{% endif %}{{ eos_token }}");
        assertEquals("user:hi;assistant:</s>", t.render(List.of(Map.of("role", "user", "content", "hi")), true,
                Map.of("eos_token", "</s>")));
        assertEquals("user:hi;", t.render(List.of(Map.of("role", "user", "content", "hi")), false, null));
    }
}

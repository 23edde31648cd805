package dev.rudder.tokenizer.jinja;

import dev.rudder.tokenizer.jinja.Values.Fn;
import dev.rudder.tokenizer.jinja.Values.KwArgs;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiPredicate;

import static dev.rudder.tokenizer.jinja.Values.UNDEFINED;
import static dev.rudder.tokenizer.jinja.Values.truthy;
import static dev.rudder.tokenizer.jinja.Values.typeName;

/** Jinja tests ({@code x is defined}, {@code n is divisibleby(3)}, ...). */
final class Tests {
    private Tests() {
    }

    /** The test called {@code name}: (value, arguments) -> result. */
    static BiPredicate<Object, List<Object>> get(String name) {
        return switch (name) {
            case "boolean" -> (v, a) -> v instanceof Boolean;
            case "callable" -> (v, a) -> v instanceof Fn;
            case "odd" -> (v, a) -> {
                if (!(v instanceof Long l)) {
                    throw new JinjaException("cannot odd on " + typeName(v));
                }
                return l % 2 != 0;
            };
            case "even" -> (v, a) -> {
                if (!(v instanceof Long l)) {
                    throw new JinjaException("cannot even on " + typeName(v));
                }
                return l % 2 == 0;
            };
            case "false" -> (v, a) -> Boolean.FALSE.equals(v);
            case "true" -> (v, a) -> Boolean.TRUE.equals(v);
            case "none" -> (v, a) -> v == null;
            case "string" -> (v, a) -> v instanceof String;
            case "number" -> (v, a) -> Values.isNumber(v);
            case "integer" -> (v, a) -> v instanceof Long;
            case "float" -> (v, a) -> v instanceof Double;
            case "iterable" -> (v, a) -> v instanceof List || v instanceof String;
            case "sequence" -> (v, a) -> v instanceof List || v instanceof String;
            case "mapping" -> (v, a) -> v instanceof Map && !(v instanceof KwArgs);
            case "lower" -> (v, a) -> v instanceof String s && s.equals(s.toLowerCase(Locale.ROOT));
            case "upper" -> (v, a) -> v instanceof String s && s.equals(s.toUpperCase(Locale.ROOT));
            case "defined" -> (v, a) -> v != UNDEFINED;
            case "undefined" -> (v, a) -> v == UNDEFINED;
            case "equalto", "eq", "==", "sameas" -> (v, a) -> Values.strictEquals(v, a.isEmpty() ? UNDEFINED : a.get(0));
            case "ne", "!=" -> (v, a) -> !Values.strictEquals(v, a.isEmpty() ? UNDEFINED : a.get(0));
            case "divisibleby" -> (v, a) -> v instanceof Long l && !a.isEmpty() && a.get(0) instanceof Long d && d != 0 && l % d == 0;
            case "in" -> (v, a) -> {
                Object c = a.isEmpty() ? UNDEFINED : a.get(0);
                if (c instanceof List<?> l) {
                    return l.stream().anyMatch(x -> Values.strictEquals(x, v));
                }
                if (c instanceof String s && v instanceof String vs) {
                    return s.contains(vs);
                }
                if (c instanceof Map<?, ?> m) {
                    return m.containsKey(v);
                }
                return false;
            };
            default -> throw new JinjaException("Unknown test: " + name);
        };
    }
}

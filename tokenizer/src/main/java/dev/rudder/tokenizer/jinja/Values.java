package dev.rudder.tokenizer.jinja;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runtime values: String, Long (integers), Double (floats), Boolean, null (none), {@link #UNDEFINED},
 * {@code List<Object>} (arrays and tuples), {@code LinkedHashMap<String,Object>} (objects), {@link Fn} (functions).
 * Conversions and comparisons follow {@code @huggingface/jinja}, i.e. JavaScript semantics where it shows through.
 */
final class Values {
    private Values() {
    }

    /** The undefined value. */
    static final Object UNDEFINED = new Object() {
        @Override
        public String toString() {
            return "undefined";
        }
    };

    @FunctionalInterface
    interface Fn {
        Object call(List<Object> args, Interpreter.Env env);
    }

    /** Keyword arguments passed as the last positional argument. */
    static final class KwArgs extends LinkedHashMap<String, Object> {
    }

    /** Converts Java input (maps, lists, numbers, ...) to runtime values, copying containers. */
    @SuppressWarnings("unchecked")
    static Object from(Object o) {
        if (o == null) {
            return null;
        }
        if (o instanceof String || o instanceof Boolean || o instanceof Fn) {
            return o;
        }
        if (o instanceof Integer || o instanceof Long || o instanceof Short || o instanceof Byte) {
            return ((Number) o).longValue();
        }
        if (o instanceof BigInteger b) {
            return b.longValue();
        }
        if (o instanceof Number n) {
            double d = n instanceof BigDecimal bd ? bd.doubleValue() : n.doubleValue();
            if (d == Math.rint(d) && !Double.isInfinite(d) && Math.abs(d) < 9.007199254740992E15) {
                return (long) d;
            }
            return d;
        }
        if (o instanceof Character c) {
            return c.toString();
        }
        if (o instanceof Map<?, ?> m) {
            LinkedHashMap<String, Object> r = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                r.put(String.valueOf(e.getKey()), from(e.getValue()));
            }
            return r;
        }
        if (o instanceof Iterable<?> it) {
            List<Object> r = new ArrayList<>();
            for (Object x : it) {
                r.add(from(x));
            }
            return r;
        }
        if (o instanceof Object[] arr) {
            List<Object> r = new ArrayList<>();
            for (Object x : arr) {
                r.add(from(x));
            }
            return r;
        }
        if (o.getClass().isArray()) {
            List<Object> r = new ArrayList<>();
            int n = java.lang.reflect.Array.getLength(o);
            for (int i = 0; i < n; i++) {
                r.add(from(java.lang.reflect.Array.get(o, i)));
            }
            return r;
        }
        if (o instanceof java.util.Optional<?> opt) {
            return opt.isPresent() ? from(opt.get()) : null;
        }
        return o.toString();
    }

    static String typeName(Object v) {
        if (v == null) {
            return "NullValue";
        }
        if (v == UNDEFINED) {
            return "UndefinedValue";
        }
        if (v instanceof String) {
            return "StringValue";
        }
        if (v instanceof Long) {
            return "IntegerValue";
        }
        if (v instanceof Double) {
            return "FloatValue";
        }
        if (v instanceof Boolean) {
            return "BooleanValue";
        }
        if (v instanceof KwArgs) {
            return "KeywordArgumentsValue";
        }
        if (v instanceof Map) {
            return "ObjectValue";
        }
        if (v instanceof List) {
            return "ArrayValue";
        }
        if (v instanceof Fn) {
            return "FunctionValue";
        }
        return "RuntimeValue";
    }

    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double;
    }

    /** Python-like truthiness (the {@code __bool__} of the reference runtime). */
    static boolean truthy(Object v) {
        if (v == null || v == UNDEFINED) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof String s) {
            return !s.isEmpty();
        }
        if (v instanceof Long l) {
            return l != 0;
        }
        if (v instanceof Double d) {
            return d != 0 && !d.isNaN();
        }
        if (v instanceof List<?> l) {
            return !l.isEmpty();
        }
        if (v instanceof Map<?, ?> m) {
            return !m.isEmpty();
        }
        return true;
    }

    /** JavaScript truthiness of the raw value (containers are always truthy). */
    static boolean jsTruthy(Object v) {
        if (v instanceof List<?> || v instanceof Map<?, ?>) {
            return true;
        }
        return truthy(v);
    }

    /** JavaScript {@code Number.prototype.toString}. */
    static String jsNumber(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == Math.rint(d) && Math.abs(d) < 1e21) {
            return new BigDecimal(d).toBigInteger().toString();
        }
        String s = Double.toString(Math.abs(d));
        String sign = d < 0 ? "-" : "";
        int e = s.indexOf('E');
        if (e < 0) {
            return sign + s;
        }
        // shortest digits and exponent in JS form
        BigDecimal bd = new BigDecimal(s).stripTrailingZeros();
        int exp = bd.precision() - bd.scale() - 1;
        String digits = bd.unscaledValue().toString();
        if (exp >= -7 && exp < 21) {
            return sign + bd.toPlainString();
        }
        String mant = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return sign + mant + "e" + (exp >= 0 ? "+" : "-") + Math.abs(exp);
    }

    /** {@code value.toString()} as JavaScript would produce it for string concatenation. */
    static String jsString(Object v) {
        if (v == null) {
            return "null";
        }
        if (v == UNDEFINED) {
            return "undefined";
        }
        if (v instanceof String s) {
            return s;
        }
        if (v instanceof Long l) {
            return l.toString();
        }
        if (v instanceof Double d) {
            return jsNumber(d);
        }
        if (v instanceof Boolean b) {
            return b ? "true" : "false";
        }
        if (v instanceof List<?> l) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                sb.append(elementString(l.get(i)));
            }
            return sb.toString();
        }
        if (v instanceof Map) {
            return "[object Map]";
        }
        return String.valueOf(v);
    }

    /**
     * A list element inside a JavaScript array's {@code toString()} in the reference: each element is a runtime value
     * whose {@code toString()} gives floats as {@code 1.0} and lists/mappings as JSON.
     */
    private static String elementString(Object v) {
        if (v instanceof Double d && d == 0 && 1 / d < 0) {
            return "-0.0";
        }
        if (v instanceof Double || v instanceof List<?> || v instanceof Map<?, ?>) {
            return render(v);
        }
        return jsString(v);
    }

    /** How a value prints in template output ({@code {{ v }}}). */
    static String render(Object v) {
        if (v instanceof Double d) {
            if (d == Math.rint(d) && !d.isInfinite()) {
                return new BigDecimal(d).setScale(1).toPlainString();
            }
            return jsNumber(d);
        }
        if (v instanceof List<?> || v instanceof Map<?, ?>) {
            return toJson(v, null, 0);
        }
        return jsString(v);
    }

    /** JavaScript loose equality ({@code ==}) on raw values. */
    static boolean looseEquals(Object a, Object b) {
        boolean an = a == null || a == UNDEFINED;
        boolean bn = b == null || b == UNDEFINED;
        if (an || bn) {
            return an && bn;
        }
        if (isNumber(a) && isNumber(b)) {
            return ((Number) a).doubleValue() == ((Number) b).doubleValue();
        }
        if (a instanceof String && b instanceof String) {
            return a.equals(b);
        }
        if (a instanceof Boolean && b instanceof Boolean) {
            return a.equals(b);
        }
        if (a instanceof Boolean x) {
            return looseEquals(x ? 1L : 0L, b);
        }
        if (b instanceof Boolean y) {
            return looseEquals(a, y ? 1L : 0L);
        }
        if (isNumber(a) && b instanceof String s) {
            return ((Number) a).doubleValue() == jsToNumber(s);
        }
        if (a instanceof String s && isNumber(b)) {
            return jsToNumber(s) == ((Number) b).doubleValue();
        }
        return a == b;
    }

    /** JavaScript strict equality ({@code ===}) on raw values. */
    static boolean strictEquals(Object a, Object b) {
        if (a == null || b == null) {
            return a == b;
        }
        if (a == UNDEFINED || b == UNDEFINED) {
            return a == b;
        }
        if (isNumber(a) && isNumber(b)) {
            return ((Number) a).doubleValue() == ((Number) b).doubleValue();
        }
        if (a instanceof String || a instanceof Boolean) {
            return a.equals(b);
        }
        return a == b;
    }

    static double jsToNumber(String s) {
        String t = s.strip();
        if (t.isEmpty()) {
            return 0;
        }
        try {
            return Double.parseDouble(t);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    /** {@code JSON.stringify} of a string. */
    static String jsonString(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2);
        sb.append('"');
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                        sb.append(c).append(s.charAt(++i));
                    } else if (Character.isSurrogate(c)) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }

    /** Nesting that {@code tojson} follows (JSON parsers' usual limit; a value containing itself stops here). */
    static final int MAX_JSON_DEPTH = 1000;

    /** The {@code tojson} filter of the reference runtime. */
    static String toJson(Object v, Long indent, int depth) {
        if (depth > MAX_JSON_DEPTH) {
            throw Budget.exceeded("value nesting depth", MAX_JSON_DEPTH, "tojson of a value nested deeper (or containing itself)");
        }
        if (v == null || v == UNDEFINED) {
            return "null";
        }
        if (v instanceof String s) {
            return jsonString(s);
        }
        if (v instanceof Long l) {
            return l.toString();
        }
        if (v instanceof Double d) {
            return d.isNaN() || d.isInfinite() ? "null" : jsNumber(d);
        }
        if (v instanceof Boolean b) {
            return b.toString();
        }
        boolean ind = indent != null && indent > 0;
        String indentValue = ind ? " ".repeat(indent.intValue()) : "";
        String basePadding = "\n" + indentValue.repeat(depth);
        String childPadding = basePadding + indentValue;
        if (v instanceof List<?> l) {
            List<String> core = new ArrayList<>();
            for (Object x : l) {
                core.add(toJson(x, indent, depth + 1));
            }
            return ind ? "[" + childPadding + String.join("," + childPadding, core) + basePadding + "]"
                    : "[" + String.join(", ", core) + "]";
        }
        if (v instanceof Map<?, ?> m) {
            List<String> core = new ArrayList<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                String s = "\"" + e.getKey() + "\": " + toJson(e.getValue(), indent, depth + 1);
                core.add(ind ? childPadding + s : s);
            }
            return ind ? "{" + String.join(",", core) + basePadding + "}" : "{" + String.join(", ", core) + "}";
        }
        throw new JinjaException("Cannot convert to JSON: " + typeName(v));
    }

    /** JavaScript {@code String.prototype.trim} whitespace. */
    static boolean jsSpace(char c) {
        return Lexer.isJsSpace(c);
    }

    static String jsTrim(String s, boolean start, boolean end) {
        int b = 0;
        int e = s.length();
        if (start) {
            while (b < e && jsSpace(s.charAt(b))) {
                b++;
            }
        }
        if (end) {
            while (e > b && jsSpace(s.charAt(e - 1))) {
                e--;
            }
        }
        return s.substring(b, e);
    }
}

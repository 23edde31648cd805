package dev.rudder.tokenizer.jinja;

import dev.rudder.tokenizer.jinja.Interpreter.Env;
import dev.rudder.tokenizer.jinja.Values.Fn;
import dev.rudder.tokenizer.jinja.Values.KwArgs;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.BiPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.rudder.tokenizer.jinja.Values.UNDEFINED;
import static dev.rudder.tokenizer.jinja.Values.jsString;
import static dev.rudder.tokenizer.jinja.Values.truthy;
import static dev.rudder.tokenizer.jinja.Values.typeName;

/**
 * The filters of the reference runtime ({@code x|tojson}, {@code items|map(attribute='a')}, ...),
 * one registry entry per (name, operand type). Several entries may share a name (e.g. {@code first}
 * on lists and on strings); they are tried in registration order and an entry that does not fit
 * the operand answers {@link #NO_MATCH}.
 */
final class Filters {

    /** One filter application: evaluated arguments plus what a filter may need of the interpreter. */
    record Call(List<Object> args, KwArgs kw, Interpreter interpreter, Env env, Budget budget) {
        Object arg(int i) {
            return i < args.size() ? args.get(i) : null;
        }

        /** Positional argument {@code i}, else keyword {@code key}, else {@code def}. */
        Object argOrKw(int i, String key, Object def) {
            return i < args.size() ? args.get(i) : kw.containsKey(key) ? kw.get(key) : def;
        }
    }

    /** A filter's answer when the operand is not of a type it handles. */
    static final Object NO_MATCH = new Object();

    private static final Pattern INT_PREFIX = Pattern.compile("^\\s*([+-]?\\d+)");
    private static final Pattern FLOAT_PREFIX = Pattern.compile("^\\s*([+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?)");
    /** {@code tojson(indent=N)} beyond this many spaces is refused (an indent is a few spaces). */
    static final int MAX_JSON_INDENT = 64;

    private static final Map<String, List<BiFunction<Object, Call, Object>>> REGISTRY = new HashMap<>();

    static {
        any("tojson", Filters::tojson);
        any("default", Filters::defaultValue);
        any("d", Filters::defaultValue);
        any("safe", (v, c) -> v);
        any("string", Filters::string);
        any("length", Filters::length);
        any("count", Filters::length);
        any("int", (v, c) -> number(v, c, true));
        any("float", (v, c) -> number(v, c, false));
        any("abs", (v, c) -> v instanceof Long l ? (Object) Math.abs(l) : v instanceof Double d ? (Object) Math.abs(d) : NO_MATCH);
        any("round", Filters::round);
        any("bool", (v, c) -> truthy(v));
        any("items", Filters::items);
        any("dictsort", Filters::dictsort);

        list("list", (l, c) -> new ArrayList<Object>(l));
        list("first", (l, c) -> l.isEmpty() ? UNDEFINED : l.get(0));
        list("last", (l, c) -> l.isEmpty() ? UNDEFINED : l.get(l.size() - 1));
        list("reverse", (l, c) -> {
            List<Object> r = new ArrayList<>(l);
            Collections.reverse(r);
            return r;
        });
        list("sort", Filters::sort);
        list("join", Filters::join);
        list("unique", Filters::unique);
        list("selectattr", (l, c) -> selectAttr(l, c, true, "selectattr"));
        list("rejectattr", (l, c) -> selectAttr(l, c, false, "rejectattr"));
        list("select", (l, c) -> select(l, c, true));
        list("reject", (l, c) -> select(l, c, false));
        list("map", Filters::map);

        for (String name : List.of("upper", "lower", "title", "capitalize")) {
            string(name, (s, c) -> ((Fn) StringMethods.method(s, name, c.budget())).call(List.of(), c.env()));
        }
        string("trim", (s, c) -> Values.jsTrim(s, true, true));
        string("list", (s, c) -> {
            c.budget().checkItems(s.length(), "list of the characters of a string");
            return codePoints(s);
        });
        string("first", (s, c) -> s.isEmpty() ? UNDEFINED : s.substring(0, Character.charCount(s.codePointAt(0))));
        string("last", (s, c) -> s.isEmpty() ? UNDEFINED : new String(Character.toChars(s.codePointBefore(s.length()))));
        string("reverse", (s, c) -> new StringBuilder(s).reverse().toString());
        string("join", (s, c) -> {
            String sep = jsString(c.argOrKw(0, "separator", ""));
            c.budget().checkString((long) s.length() * (sep.length() + 1), "join of a string's characters");
            return String.join(sep, codePoints(s).stream().map(x -> (String) x).toList());
        });
        string("indent", Filters::indent);
        string("replace", (s, c) -> {
            List<Object> a = new ArrayList<>(c.args());
            a.add(c.kw());
            return ((Fn) StringMethods.method(s, "replace", c.budget())).call(a, c.env());
        });
        string("wordcount", (s, c) -> (long) StringMethods.split(s, List.of(), c.budget()).size());
        string("escape", Filters::escape);
        string("e", Filters::escape);
    }

    private Filters() {
    }

    private static void any(String name, BiFunction<Object, Call, Object> f) {
        REGISTRY.computeIfAbsent(name, k -> new ArrayList<>()).add(f);
    }

    private static void list(String name, BiFunction<List<?>, Call, Object> f) {
        any(name, (v, c) -> v instanceof List<?> l ? f.apply(l, c) : NO_MATCH);
    }

    private static void string(String name, BiFunction<String, Call, Object> f) {
        any(name, (v, c) -> v instanceof String s ? f.apply(s, c) : NO_MATCH);
    }

    /** Applies filter {@code name} to {@code operand}. */
    static Object apply(String name, Object operand, Call call) {
        for (BiFunction<Object, Call, Object> f : REGISTRY.getOrDefault(name, List.of())) {
            Object r = f.apply(operand, call);
            if (r != NO_MATCH) {
                return r;
            }
        }
        throw new JinjaException("Cannot apply filter \"" + name + "\" to type: " + typeName(operand));
    }

    // ------------------------------------------------------------------------------------------ any type

    private static Object tojson(Object v, Call c) {
        Object ind = c.kw().containsKey("indent") ? c.kw().get("indent") : c.arg(0);
        if (!(ind == null || ind instanceof Long)) {
            throw new JinjaException("If set, indent must be a number");
        }
        if (ind != null && (Long) ind > MAX_JSON_INDENT) {
            throw Budget.exceeded("tojson indent", MAX_JSON_INDENT, "indent=" + ind);
        }
        return Values.toJson(v, (Long) ind, 0);
    }

    private static Object defaultValue(Object v, Call c) {
        Object def = c.args().isEmpty() ? "" : c.args().get(0);
        Object bool = c.args().size() > 1 ? c.args().get(1) : c.kw().getOrDefault("boolean", false);
        return v == UNDEFINED || (Boolean.TRUE.equals(bool) && !truthy(v)) ? def : v;
    }

    private static Object string(Object v, Call c) {
        if (v instanceof String) {
            return v;
        }
        if (v instanceof List) {
            return Values.toJson(v, null, 0);
        }
        // As the reference (@huggingface/jinja 0.5.11): a mapping, none or undefined has no string filter (an error).
        return v instanceof Map || v == UNDEFINED || v == null ? NO_MATCH : jsString(v);
    }

    private static Object length(Object v, Call c) {
        if (v instanceof String s) {
            return (long) s.length();
        }
        if (v instanceof List<?> l) {
            return (long) l.size();
        }
        if (v instanceof Map<?, ?> m) {
            return (long) m.size();
        }
        return NO_MATCH;
    }

    private static Object number(Object v, Call c, boolean isInt) {
        Object def = c.argOrKw(0, "default", isInt ? (Object) 0L : (Object) 0.0);
        if (v instanceof String s) {
            try {
                Matcher m = (isInt ? INT_PREFIX : FLOAT_PREFIX).matcher(s);
                if (!m.find()) {
                    return def;
                }
                return isInt ? (Object) Long.parseLong(m.group(1).replace("+", "")) : (Object) Double.parseDouble(m.group(1));
            } catch (NumberFormatException ex) {
                return def;
            }
        }
        if (v instanceof Long l) {
            return isInt ? l : (Object) l.doubleValue();
        }
        if (v instanceof Double d) {
            return isInt ? (Object) (long) Math.floor(d) : d;
        }
        if (v instanceof Boolean b) {
            return isInt ? (Object) (b ? 1L : 0L) : (Object) (b ? 1.0 : 0.0);
        }
        return NO_MATCH;
    }

    private static Object round(Object v, Call c) {
        if (!Values.isNumber(v)) {
            return NO_MATCH;
        }
        long prec = c.args().isEmpty() ? 0 : ((Number) c.args().get(0)).longValue();
        double f = Math.pow(10, prec);
        return Math.round(((Number) v).doubleValue() * f) / f;
    }

    @SuppressWarnings("unchecked")
    private static Object items(Object v, Call c) {
        if (v instanceof Map<?, ?> m) {
            return items((Map<String, Object>) m);
        }
        return v == UNDEFINED || v == null ? new ArrayList<>() : NO_MATCH;
    }

    @SuppressWarnings("unchecked")
    private static Object dictsort(Object v, Call c) {
        if (!(v instanceof Map<?, ?> m)) {
            return NO_MATCH;
        }
        List<Object> it = items((Map<String, Object>) m);
        it.sort((x, y) -> ((String) ((List<?>) x).get(0)).compareTo((String) ((List<?>) y).get(0)));
        return it;
    }

    /** A map's entries as [key, value] pairs (the {@code items} filter and method). */
    static List<Object> items(Map<String, Object> m) {
        List<Object> r = new ArrayList<>();
        for (Map.Entry<String, Object> e : m.entrySet()) {
            List<Object> pair = new ArrayList<>(2);
            pair.add(e.getKey());
            pair.add(e.getValue());
            r.add(pair);
        }
        return r;
    }

    // ------------------------------------------------------------------------------------------ lists

    private static Object sort(List<?> list, Call c) {
        List<Object> r = new ArrayList<>(list);
        boolean reverse = Boolean.TRUE.equals(c.kw().get("reverse")) || Boolean.TRUE.equals(c.arg(0));
        Object attr = c.kw().get("attribute");
        r.sort((x, y) -> {
            Object a = attr instanceof String as && x instanceof Map<?, ?> xm ? xm.get(as) : x;
            Object b = attr instanceof String as && y instanceof Map<?, ?> ym ? ym.get(as) : y;
            int cmp;
            if (Values.isNumber(a) && Values.isNumber(b)) {
                cmp = Double.compare(((Number) a).doubleValue(), ((Number) b).doubleValue());
            } else if (a instanceof String sa && b instanceof String sb) {
                cmp = sa.compareTo(sb);
            } else {
                throw new JinjaException("Cannot compare " + typeName(a) + " and " + typeName(b));
            }
            return reverse ? -cmp : cmp;
        });
        return r;
    }

    private static Object join(List<?> list, Call c) {
        String sep = jsString(c.argOrKw(0, "separator", ""));
        List<String> parts = new ArrayList<>();
        long length = 0;
        for (Object x : list) {
            String s = x == null || x == UNDEFINED ? "" : jsString(x);
            length += s.length() + sep.length();
            c.budget().checkString(length, "join");
            parts.add(s);
        }
        return String.join(sep, parts);
    }

    private static Object unique(List<?> list, Call c) {
        List<Object> r = new ArrayList<>();
        LinkedHashSet<Object> seen = new LinkedHashSet<>();
        for (Object x : list) {
            Object key = x instanceof Long l ? (Object) l.doubleValue() : x;
            if (seen.add(key)) {
                r.add(x);
            }
        }
        return r;
    }

    private static Object selectAttr(List<?> list, Call c, boolean select, String name) {
        if (!(c.arg(0) instanceof String attr)) {
            throw new JinjaException("arguments of `" + name + "` must be strings");
        }
        List<Object> args = c.args();
        BiPredicate<Object, List<Object>> t = args.size() > 1 ? Tests.get(jsString(args.get(1))) : (x, y) -> truthy(x);
        List<Object> rest = args.size() > 2 ? args.subList(2, args.size()) : List.of();
        List<Object> r = new ArrayList<>();
        for (Object item : list) {
            if (!(item instanceof Map<?, ?> im)) {
                throw new JinjaException("`" + name + "` can only be applied to array of objects");
            }
            boolean res = im.containsKey(attr) && t.test(im.get(attr), rest);
            if (select == res) {
                r.add(item);
            }
        }
        return r;
    }

    private static Object select(List<?> list, Call c, boolean select) {
        List<Object> args = c.args();
        BiPredicate<Object, List<Object>> t = !args.isEmpty() ? Tests.get(jsString(args.get(0))) : (x, y) -> truthy(x);
        List<Object> rest = args.size() > 1 ? args.subList(1, args.size()) : List.of();
        List<Object> r = new ArrayList<>();
        for (Object item : list) {
            if (select == t.test(item, rest)) {
                r.add(item);
            }
        }
        return r;
    }

    private static Object map(List<?> list, Call c) {
        if (c.kw().get("attribute") instanceof String attr) {
            Object def = c.kw().containsKey("default") ? c.kw().get("default") : UNDEFINED;
            List<Object> r = new ArrayList<>();
            for (Object item : list) {
                if (!(item instanceof Map<?, ?> im)) {
                    throw new JinjaException("items in map must be an object");
                }
                r.add(im.containsKey(attr) ? im.get(attr) : def);
            }
            return r;
        }
        if (c.arg(0) instanceof String filter) {
            List<Object> r = new ArrayList<>();
            for (Object item : list) {
                c.budget().step();
                r.add(apply(filter, item, new Call(List.of(), new KwArgs(), c.interpreter(), c.env(), c.budget())));
            }
            return r;
        }
        throw new JinjaException("`map` expressions without `attribute` set are not currently supported.");
    }

    // ------------------------------------------------------------------------------------------ strings

    private static List<Object> codePoints(String s) {
        List<Object> r = new ArrayList<>();
        s.codePoints().forEach(cp -> r.add(new String(Character.toChars(cp))));
        return r;
    }

    private static Object indent(String s, Call c) {
        Object w = c.argOrKw(0, "width", 4L);
        Object first = c.argOrKw(1, "first", false);
        Object blank = c.argOrKw(2, "blank", false);
        long width = w instanceof Long l ? Math.max(0, l) : jsString(w).length();
        String[] lines = s.split("\n", -1);
        c.budget().checkString(s.length() + width * lines.length, "indent");
        String ind = w instanceof Long ? " ".repeat((int) width) : jsString(w);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines.length; i++) {
            if (i > 0) {
                sb.append('\n');
            }
            String x = lines[i];
            sb.append((!truthy(first) && i == 0) || (!truthy(blank) && x.isEmpty()) ? x : ind + x);
        }
        return sb.toString();
    }

    private static Object escape(String s, Call c) {
        c.budget().checkString(s.length() + 5L * s.chars().filter(ch -> "&<>\"'".indexOf(ch) >= 0).count(), "escape");
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\"", "&#34;").replace("'", "&#39;");
    }
}

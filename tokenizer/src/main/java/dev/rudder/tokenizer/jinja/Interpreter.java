package dev.rudder.tokenizer.jinja;

import dev.rudder.tokenizer.jinja.Values.Fn;
import dev.rudder.tokenizer.jinja.Values.KwArgs;

import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiPredicate;

import static dev.rudder.tokenizer.jinja.Values.UNDEFINED;
import static dev.rudder.tokenizer.jinja.Values.jsString;
import static dev.rudder.tokenizer.jinja.Values.truthy;
import static dev.rudder.tokenizer.jinja.Values.typeName;

/** Evaluates a parsed template with the semantics of the {@code @huggingface/jinja} runtime. */
final class Interpreter {

    static final class Env {
        final Map<String, Object> vars = new HashMap<>();
        final Env parent;

        Env(Env parent) {
            this.parent = parent;
        }

        Object lookup(String name) {
            for (Env e = this; e != null; e = e.parent) {
                if (e.vars.containsKey(name)) {
                    Object v = e.vars.get(name);
                    return v;
                }
            }
            return UNDEFINED;
        }

        void set(String name, Object v) {
            vars.put(name, v);
        }
    }

    private static final class BreakSignal extends RuntimeException {
        BreakSignal() {
            super(null, null, false, false);
        }
    }

    private static final class ContinueSignal extends RuntimeException {
        ContinueSignal() {
            super(null, null, false, false);
        }
    }

    static Env globals() {
        Env env = new Env(null);
        env.set("true", true);
        env.set("false", false);
        env.set("none", null);
        env.set("True", true);
        env.set("False", false);
        env.set("None", null);
        env.set("namespace", (Fn) (args, e) -> {
            if (args.isEmpty()) {
                return new LinkedHashMap<String, Object>();
            }
            if (args.size() != 1 || !(args.get(0) instanceof Map)) {
                throw new JinjaException("`namespace` expects either zero arguments or a single object argument");
            }
            LinkedHashMap<String, Object> ns = new LinkedHashMap<>();
            @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) args.get(0);
            ns.putAll(m);
            return ns;
        });
        env.set("raise_exception", (Fn) (args, e) -> {
            throw new JinjaException(args.isEmpty() ? "undefined" : jsString(args.get(0)), true);
        });
        env.set("range", (Fn) (args, e) -> range(args));
        env.set("strftime_now", (Fn) (args, e) -> strftime(LocalDateTime.now(), args.isEmpty() ? "" : jsString(args.get(0))));
        return env;
    }

    // ------------------------------------------------------------------------------------------- statements

    void block(List<Node> nodes, Env env, StringBuilder out) {
        for (Node n : nodes) {
            exec(n, env, out);
        }
    }

    String blockToString(List<Node> nodes, Env env) {
        StringBuilder sb = new StringBuilder();
        block(nodes, env, sb);
        return sb.toString();
    }

    private void exec(Node n, Env env, StringBuilder out) {
        switch (n) {
            case Node.Text t -> out.append(t.value());
            case Node.Comment c -> {
            }
            case Node.If i -> block(truthy(eval(i.test(), env)) ? i.body() : i.alternate(), env, out);
            case Node.For f -> execFor(f, env, out);
            case Node.Set s -> execSet(s, env);
            case Node.Macro m -> defineMacro(m, env);
            case Node.Break b -> throw new BreakSignal();
            case Node.Continue c -> throw new ContinueSignal();
            case Node.CallBlock cb -> out.append(Values.render(execCallBlock(cb, env)));
            case Node.FilterBlock fb -> {
                Object r = applyFilter(blockToString(fb.body(), env), fb.name(), fb.args(), fb.call(), env);
                if (r != null && r != UNDEFINED) {
                    out.append(Values.render(r));
                }
            }
            default -> {
                Object v = eval(n, env);
                if (v != null && v != UNDEFINED) {
                    out.append(Values.render(v));
                }
            }
        }
    }

    private void execSet(Node.Set s, Env env) {
        Object rhs = s.value() != null ? eval(s.value(), env) : blockToString(s.body(), env);
        switch (s.target()) {
            case Node.Ident id -> env.set(id.name(), rhs);
            case Node.TupleLit t -> {
                if (!(rhs instanceof List<?> l)) {
                    throw new JinjaException("Cannot unpack non-iterable type in set: " + typeName(rhs));
                }
                if (l.size() != t.items().size()) {
                    throw new JinjaException("Too " + (t.items().size() > l.size() ? "few" : "many") + " items to unpack in set");
                }
                for (int i = 0; i < l.size(); i++) {
                    if (!(t.items().get(i) instanceof Node.Ident id)) {
                        throw new JinjaException("Cannot unpack to non-identifier in set");
                    }
                    env.set(id.name(), l.get(i));
                }
            }
            case Node.Member m -> {
                Object obj = eval(m.object(), env);
                if (!(obj instanceof Map<?, ?>)) {
                    throw new JinjaException("Cannot assign to member of non-object");
                }
                if (m.computed() || !(m.property() instanceof Node.Ident p)) {
                    throw new JinjaException("Cannot assign to member with non-identifier property");
                }
                @SuppressWarnings("unchecked") Map<String, Object> map = (Map<String, Object>) obj;
                map.put(p.name(), rhs);
            }
            default -> throw new JinjaException("Invalid LHS inside assignment expression");
        }
    }

    private void execFor(Node.For f, Env env, StringBuilder out) {
        Env scope = new Env(env);
        Node test = null;
        Object iterable;
        if (f.iterable() instanceof Node.Select sel) {
            iterable = eval(sel.lhs(), scope);
            test = sel.test();
        } else {
            iterable = eval(f.iterable(), scope);
        }
        List<?> items;
        if (iterable instanceof Map<?, ?> m) {
            items = new ArrayList<>(m.keySet());
        } else if (iterable instanceof List<?> l) {
            items = l;
        } else if (iterable instanceof String s) {
            List<Object> chars = new ArrayList<>();
            s.codePoints().forEach(cp -> chars.add(new String(Character.toChars(cp))));
            items = chars;
        } else {
            throw new JinjaException("Expected iterable or object type in for loop: got " + typeName(iterable));
        }
        List<Object> kept = new ArrayList<>();
        for (Object cur : items) {
            if (test != null) {
                Env loopScope = new Env(scope);
                bindLoopVar(f.loopVar(), cur, loopScope);
                if (!truthy(eval(test, loopScope))) {
                    continue;
                }
            }
            kept.add(cur);
        }
        boolean noIteration = true;
        int n = kept.size();
        for (int i = 0; i < n; i++) {
            LinkedHashMap<String, Object> loop = new LinkedHashMap<>();
            loop.put("index", (long) (i + 1));
            loop.put("index0", (long) i);
            loop.put("revindex", (long) (n - i));
            loop.put("revindex0", (long) (n - i - 1));
            loop.put("first", i == 0);
            loop.put("last", i == n - 1);
            loop.put("length", (long) n);
            loop.put("previtem", i > 0 ? kept.get(i - 1) : UNDEFINED);
            loop.put("nextitem", i < n - 1 ? kept.get(i + 1) : UNDEFINED);
            final int idx = i;
            loop.put("cycle", (Fn) (args, e) -> args.isEmpty() ? UNDEFINED : args.get(idx % args.size()));
            scope.set("loop", loop);
            bindLoopVar(f.loopVar(), kept.get(i), scope);
            StringBuilder body = new StringBuilder();
            try {
                block(f.body(), scope, body);
            } catch (ContinueSignal c) {
                out.append(body);
                continue;
            } catch (BreakSignal b) {
                out.append(body);
                break;
            }
            out.append(body);
            noIteration = false;
        }
        if (noIteration) {
            block(f.elseBody(), scope, out);
        }
    }

    private void bindLoopVar(Node var, Object cur, Env scope) {
        if (var instanceof Node.Ident id) {
            scope.set(id.name(), cur);
        } else if (var instanceof Node.TupleLit t) {
            if (!(cur instanceof List<?> l)) {
                throw new JinjaException("Cannot unpack non-iterable type: " + typeName(cur));
            }
            if (l.size() != t.items().size()) {
                throw new JinjaException("Too " + (t.items().size() > l.size() ? "few" : "many") + " items to unpack");
            }
            for (int j = 0; j < l.size(); j++) {
                if (!(t.items().get(j) instanceof Node.Ident id)) {
                    throw new JinjaException("Cannot unpack non-identifier type");
                }
                scope.set(id.name(), l.get(j));
            }
        } else {
            throw new JinjaException("Invalid loop variable(s)");
        }
    }

    private void defineMacro(Node.Macro m, Env env) {
        env.set(m.name(), (Fn) (args, callerEnv) -> {
            Env scope = new Env(callerEnv);
            List<Object> a = new ArrayList<>(args);
            KwArgs kw = null;
            if (!a.isEmpty() && a.get(a.size() - 1) instanceof KwArgs k) {
                kw = k;
                a.remove(a.size() - 1);
            }
            for (int i = 0; i < m.args().size(); i++) {
                Node p = m.args().get(i);
                Object passed = i < a.size() ? a.get(i) : null;
                boolean has = i < a.size();
                if (p instanceof Node.Ident id) {
                    if (!has) {
                        if (kw != null && kw.containsKey(id.name())) {
                            scope.set(id.name(), kw.get(id.name()));
                            continue;
                        }
                        throw new JinjaException("Missing positional argument: " + id.name());
                    }
                    scope.set(id.name(), passed);
                } else if (p instanceof Node.KwArg k) {
                    Object v = has ? passed : kw != null && kw.containsKey(k.key()) ? kw.get(k.key()) : eval(k.value(), scope);
                    scope.set(k.key(), v);
                } else {
                    throw new JinjaException("Unknown argument type in macro " + m.name());
                }
            }
            return blockToString(m.body(), scope);
        });
    }

    private Object execCallBlock(Node.CallBlock cb, Env env) {
        Fn caller = (callerArgs, callerEnv) -> {
            Env scope = new Env(callerEnv);
            for (int i = 0; i < cb.callerArgs().size(); i++) {
                if (!(cb.callerArgs().get(i) instanceof Node.Ident id)) {
                    throw new JinjaException("Caller parameter must be an identifier");
                }
                scope.set(id.name(), i < callerArgs.size() ? callerArgs.get(i) : UNDEFINED);
            }
            return blockToString(cb.body(), scope);
        };
        List<Object> args = new ArrayList<>();
        KwArgs kw = new KwArgs();
        evalArgs(cb.call().args(), env, args, kw);
        args.add(kw);
        Object fn = eval(cb.call().callee(), env);
        if (!(fn instanceof Fn f)) {
            throw new JinjaException("Cannot call something that is not a function: got " + typeName(fn));
        }
        Env scope = new Env(env);
        scope.set("caller", caller);
        return f.call(args, scope);
    }

    // ------------------------------------------------------------------------------------------ expressions

    Object eval(Node n, Env env) {
        if (n == null) {
            return UNDEFINED;
        }
        return switch (n) {
            case Node.Str s -> s.value();
            case Node.Text t -> t.value();
            case Node.IntLit i -> i.value();
            case Node.FloatLit f -> f.value();
            case Node.Ident id -> env.lookup(id.name());
            case Node.ArrayLit a -> {
                List<Object> l = new ArrayList<>();
                for (Node x : a.items()) {
                    l.add(eval(x, env));
                }
                yield l;
            }
            case Node.TupleLit a -> {
                List<Object> l = new ArrayList<>();
                for (Node x : a.items()) {
                    l.add(eval(x, env));
                }
                yield l;
            }
            case Node.ObjectLit o -> {
                LinkedHashMap<String, Object> m = new LinkedHashMap<>();
                for (int i = 0; i < o.keys().size(); i++) {
                    Object k = eval(o.keys().get(i), env);
                    if (!(k instanceof String ks)) {
                        throw new JinjaException("Object keys must be strings: got " + typeName(k));
                    }
                    m.put(ks, eval(o.values().get(i), env));
                }
                yield m;
            }
            case Node.Member m -> member(m, env);
            case Node.Call c -> call(c, env);
            case Node.Unary u -> unary(u, env);
            case Node.Binary b -> binary(b, env);
            case Node.Filter f -> applyFilter(eval(f.operand(), env), f.name(), f.args(), f.call(), env);
            case Node.Test t -> test(t, env);
            case Node.Select s -> truthy(eval(s.test(), env)) ? eval(s.lhs(), env) : UNDEFINED;
            case Node.Ternary t -> truthy(eval(t.cond(), env)) ? eval(t.whenTrue(), env) : eval(t.whenFalse(), env);
            case Node.Comment c -> null;
            case Node.If i -> {
                StringBuilder sb = new StringBuilder();
                exec(i, env, sb);
                yield sb.toString();
            }
            default -> {
                StringBuilder sb = new StringBuilder();
                exec(n, env, sb);
                yield sb.toString();
            }
        };
    }

    private Object unary(Node.Unary u, Env env) {
        Object a = eval(u.arg(), env);
        switch (u.op()) {
            case "not":
                // the reference negates the JavaScript truthiness of the raw value: lists and objects are
                // always truthy there (so `not []` is false), unlike the Python-like `if`
                return !Values.jsTruthy(a);
            case "-":
                if (a instanceof Long l) {
                    return -l;
                }
                if (a instanceof Double d) {
                    return -d;
                }
                throw new JinjaException("Unknown operator: - on " + typeName(a));
            case "+":
                if (Values.isNumber(a)) {
                    return a;
                }
                throw new JinjaException("Unknown operator: + on " + typeName(a));
            default:
                throw new JinjaException("Unknown operator: " + u.op());
        }
    }

    private Object binary(Node.Binary b, Env env) {
        Object left = eval(b.left(), env);
        String op = b.op();
        if (op.equals("and")) {
            return truthy(left) ? eval(b.right(), env) : left;
        }
        if (op.equals("or")) {
            return truthy(left) ? left : eval(b.right(), env);
        }
        Object right = eval(b.right(), env);
        if (op.equals("==")) {
            return Values.looseEquals(left, right);
        }
        if (op.equals("!=")) {
            return !Values.looseEquals(left, right);
        }
        if (left == UNDEFINED || right == UNDEFINED) {
            if (right == UNDEFINED && (op.equals("in") || op.equals("not in"))) {
                return op.equals("not in");
            }
            throw new JinjaException("Cannot perform operation " + op + " on undefined values");
        }
        if (left == null || right == null) {
            throw new JinjaException("Cannot perform operation on null values");
        }
        if (op.equals("~")) {
            return jsString(left) + jsString(right);
        }
        if (Values.isNumber(left) && Values.isNumber(right)) {
            boolean isFloat = left instanceof Double || right instanceof Double;
            double a = ((Number) left).doubleValue();
            double c = ((Number) right).doubleValue();
            switch (op) {
                case "+", "-", "*": {
                    if (!isFloat) {
                        long x = (Long) left;
                        long y = (Long) right;
                        return op.equals("+") ? x + y : op.equals("-") ? x - y : x * y;
                    }
                    return op.equals("+") ? a + c : op.equals("-") ? a - c : a * c;
                }
                case "/":
                    return a / c;
                case "//": {
                    if (!isFloat) {
                        long y = (Long) right;
                        if (y == 0) {
                            throw new JinjaException("integer division or modulo by zero");
                        }
                        return Math.floorDiv((Long) left, y);
                    }
                    return Math.floor(a / c);
                }
                case "%": {
                    if (!isFloat) {
                        long y = (Long) right;
                        if (y == 0) {
                            return Double.NaN;
                        }
                        return (Long) left % y;
                    }
                    return a % c;
                }
                case "<":
                    return a < c;
                case ">":
                    return a > c;
                case ">=":
                    return a >= c;
                case "<=":
                    return a <= c;
                default:
                    break;
            }
        } else if (left instanceof List<?> l && right instanceof List<?> r) {
            if (op.equals("+")) {
                List<Object> res = new ArrayList<>(l);
                res.addAll(r);
                return res;
            }
        } else if (right instanceof List<?> r) {
            boolean member = false;
            for (Object x : r) {
                if (Values.strictEquals(x, left)) {
                    member = true;
                    break;
                }
            }
            if (op.equals("in")) {
                return member;
            }
            if (op.equals("not in")) {
                return !member;
            }
        }
        if (left instanceof String || right instanceof String) {
            if (op.equals("+")) {
                return jsString(left) + jsString(right);
            }
        }
        if (left instanceof String ls && right instanceof String rs) {
            switch (op) {
                case "in":
                    return rs.contains(ls);
                case "not in":
                    return !rs.contains(ls);
                case "<":
                    return ls.compareTo(rs) < 0;
                case ">":
                    return ls.compareTo(rs) > 0;
                case "<=":
                    return ls.compareTo(rs) <= 0;
                case ">=":
                    return ls.compareTo(rs) >= 0;
                default:
                    break;
            }
        }
        if (left instanceof String ls && right instanceof Map<?, ?> rm) {
            if (op.equals("in")) {
                return rm.containsKey(ls);
            }
            if (op.equals("not in")) {
                return !rm.containsKey(ls);
            }
        }
        if (op.equals("*") && left instanceof String s && right instanceof Long k) {
            return s.repeat((int) Math.max(0, k));
        }
        throw new JinjaException("Unknown operator \"" + op + "\" between " + typeName(left) + " and " + typeName(right));
    }

    private void evalArgs(List<Node> nodes, Env env, List<Object> args, KwArgs kw) {
        for (Node a : nodes) {
            if (a instanceof Node.KwArg k) {
                kw.put(k.key(), eval(k.value(), env));
            } else {
                if (!kw.isEmpty()) {
                    throw new JinjaException("Positional arguments must come before keyword arguments");
                }
                args.add(eval(a, env));
            }
        }
    }

    private Object call(Node.Call c, Env env) {
        List<Object> args = new ArrayList<>();
        KwArgs kw = new KwArgs();
        evalArgs(c.args(), env, args, kw);
        if (!kw.isEmpty()) {
            args.add(kw);
        }
        Object fn = eval(c.callee(), env);
        if (!(fn instanceof Fn f)) {
            throw new JinjaException("Cannot call something that is not a function: got " + typeName(fn));
        }
        return f.call(args, env);
    }

    private Object member(Node.Member m, Env env) {
        Object obj = eval(m.object(), env);
        if (m.computed() && m.property() instanceof Node.Slice s) {
            return slice(obj, s, env);
        }
        Object prop = m.computed() ? eval(m.property(), env) : ((Node.Ident) m.property()).name();
        Object value;
        if (obj instanceof Map<?, ?> map) {
            if (!(prop instanceof String ps)) {
                throw new JinjaException("Cannot access property with non-string: got " + typeName(prop));
            }
            value = map.containsKey(ps) ? map.get(ps) : objectBuiltin(map, ps);
            if (value == null && map.containsKey(ps)) {
                return null;
            }
        } else if (obj instanceof List<?> list) {
            if (prop instanceof Long idx) {
                long i = idx < 0 ? list.size() + idx : idx;
                value = i >= 0 && i < list.size() ? list.get((int) i) : UNDEFINED;
                if (value == null && i >= 0 && i < list.size()) {
                    return null;
                }
            } else if (prop instanceof String ps) {
                value = ps.equals("length") ? (Object) (long) list.size() : UNDEFINED;
            } else {
                throw new JinjaException("Cannot access property with non-string/non-number: got " + typeName(prop));
            }
        } else if (obj instanceof String str) {
            if (prop instanceof Long idx) {
                long i = idx < 0 ? str.length() + idx : idx;
                value = i >= 0 && i < str.length() ? String.valueOf(str.charAt((int) i)) : UNDEFINED;
            } else if (prop instanceof String ps) {
                value = stringBuiltin(str, ps);
            } else {
                throw new JinjaException("Cannot access property with non-string/non-number: got " + typeName(prop));
            }
        } else {
            if (!(prop instanceof String)) {
                throw new JinjaException("Cannot access property with non-string: got " + typeName(prop));
            }
            value = UNDEFINED;
        }
        return value == null ? UNDEFINED : value;
    }

    private Object slice(Object obj, Node.Slice s, Env env) {
        Object start = eval(s.start(), env);
        Object stop = eval(s.stop(), env);
        Object step = eval(s.step(), env);
        for (Object x : new Object[]{start, stop, step}) {
            if (!(x instanceof Long || x == UNDEFINED || x == null)) {
                throw new JinjaException("Slice indices must be integers or undefined");
            }
        }
        Long st = start instanceof Long l ? l : null;
        Long sp = stop instanceof Long l ? l : null;
        long stepV = step instanceof Long l ? l : 1;
        if (stepV == 0) {
            throw new JinjaException("slice step cannot be zero");
        }
        if (obj instanceof List<?> list) {
            List<Object> r = new ArrayList<>();
            for (int i : sliceIndices(list.size(), st, sp, stepV)) {
                r.add(list.get(i));
            }
            return r;
        }
        if (obj instanceof String str) {
            int[] cps = str.codePoints().toArray();
            StringBuilder sb = new StringBuilder();
            for (int i : sliceIndices(cps.length, st, sp, stepV)) {
                sb.appendCodePoint(cps[i]);
            }
            return sb.toString();
        }
        throw new JinjaException("Slice object must be an array or string");
    }

    private static List<Integer> sliceIndices(int len, Long start, Long stop, long step) {
        long s;
        long e;
        if (step > 0) {
            s = start == null ? 0 : start < 0 ? Math.max(len + start, 0) : Math.min(start, len);
            e = stop == null ? len : stop < 0 ? Math.max(len + stop, 0) : Math.min(stop, len);
        } else {
            s = start == null ? len - 1 : start < 0 ? Math.max(len + start, -1) : Math.min(start, len - 1);
            e = stop == null ? -1 : stop < -1 ? Math.max(len + stop, -1) : Math.min(stop, len - 1);
        }
        List<Integer> r = new ArrayList<>();
        long dir = step > 0 ? 1 : -1;
        for (long i = s; dir * i < dir * e; i += step) {
            r.add((int) i);
        }
        return r;
    }

    private Object objectBuiltin(Map<?, ?> map, String name) {
        @SuppressWarnings("unchecked") Map<String, Object> m = (Map<String, Object>) map;
        return switch (name) {
            case "get" -> (Fn) (args, e) -> {
                if (args.isEmpty() || !(args.get(0) instanceof String k)) {
                    throw new JinjaException("Object key must be a string");
                }
                if (m.containsKey(k)) {
                    return m.get(k);
                }
                return args.size() > 1 ? args.get(1) : null;
            };
            case "items" -> (Fn) (args, e) -> items(m);
            case "keys" -> (Fn) (args, e) -> new ArrayList<Object>(m.keySet());
            case "values" -> (Fn) (args, e) -> new ArrayList<Object>(m.values());
            case "update" -> (Fn) (args, e) -> {
                for (Object a : args) {
                    if (a instanceof Map<?, ?> o) {
                        for (Map.Entry<?, ?> en : o.entrySet()) {
                            m.put(String.valueOf(en.getKey()), en.getValue());
                        }
                    }
                }
                return null;
            };
            default -> UNDEFINED;
        };
    }

    private static List<Object> items(Map<String, Object> m) {
        List<Object> r = new ArrayList<>();
        for (Map.Entry<String, Object> e : m.entrySet()) {
            List<Object> pair = new ArrayList<>(2);
            pair.add(e.getKey());
            pair.add(e.getValue());
            r.add(pair);
        }
        return r;
    }

    private static String titleCase(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevWord = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
            sb.append(word && !prevWord ? Character.toUpperCase(c) : c);
            prevWord = word;
        }
        return sb.toString();
    }

    private static String charsArg(List<Object> args) {
        if (args.isEmpty() || args.get(0) == null || args.get(0) == UNDEFINED) {
            return null;
        }
        if (!(args.get(0) instanceof String s)) {
            throw new JinjaException("strip arg must be a string");
        }
        return s;
    }

    private Object stringBuiltin(String s, String name) {
        return switch (name) {
            case "upper" -> (Fn) (a, e) -> s.toUpperCase(Locale.ROOT);
            case "lower" -> (Fn) (a, e) -> s.toLowerCase(Locale.ROOT);
            case "strip" -> (Fn) (a, e) -> charsArg(a) == null ? Values.jsTrim(s, true, true) : Values.stripChars(s, charsArg(a), true, true);
            case "lstrip" -> (Fn) (a, e) -> charsArg(a) == null ? Values.jsTrim(s, true, false) : Values.stripChars(s, charsArg(a), true, false);
            case "rstrip" -> (Fn) (a, e) -> charsArg(a) == null ? Values.jsTrim(s, false, true) : Values.stripChars(s, charsArg(a), false, true);
            case "title" -> (Fn) (a, e) -> titleCase(s);
            case "capitalize" -> (Fn) (a, e) -> s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1);
            case "length" -> (long) s.length();
            case "startswith", "endswith" -> (Fn) (a, e) -> {
                if (a.isEmpty()) {
                    throw new JinjaException(name + "() requires at least one argument");
                }
                Object p = a.get(0);
                boolean start = name.equals("startswith");
                if (p instanceof String ps) {
                    return start ? s.startsWith(ps) : s.endsWith(ps);
                }
                if (p instanceof List<?> l) {
                    for (Object x : l) {
                        if (!(x instanceof String xs)) {
                            throw new JinjaException(name + "() tuple elements must be strings");
                        }
                        if (start ? s.startsWith(xs) : s.endsWith(xs)) {
                            return true;
                        }
                    }
                    return false;
                }
                throw new JinjaException(name + "() argument must be a string or tuple of strings");
            };
            case "split" -> (Fn) (a, e) -> split(s, a);
            case "replace" -> (Fn) (a, e) -> {
                if (a.size() < 2 || !(a.get(0) instanceof String o) || !(a.get(1) instanceof String nw)) {
                    throw new JinjaException("replace() requires two string arguments");
                }
                Object count = a.size() > 2 ? a.get(2) : null;
                if (count instanceof KwArgs kw) {
                    count = kw.get("count");
                }
                return replace(s, o, nw, count instanceof Long l ? l : -1);
            };
            case "count" -> (Fn) (a, e) -> {
                String sub = a.isEmpty() ? "" : jsString(a.get(0));
                if (sub.isEmpty()) {
                    return (long) s.length() + 1;
                }
                long c = 0;
                for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
                    c++;
                }
                return c;
            };
            case "find" -> (Fn) (a, e) -> (long) s.indexOf(a.isEmpty() ? "" : jsString(a.get(0)));
            case "join" -> (Fn) (a, e) -> {
                if (a.isEmpty() || !(a.get(0) instanceof List<?> l)) {
                    throw new JinjaException("join() argument must be a list");
                }
                List<String> parts = new ArrayList<>();
                for (Object x : l) {
                    parts.add(jsString(x));
                }
                return String.join(s, parts);
            };
            case "isdigit" -> (Fn) (a, e) -> !s.isEmpty() && s.chars().allMatch(Character::isDigit);
            case "isalpha" -> (Fn) (a, e) -> !s.isEmpty() && s.chars().allMatch(Character::isLetter);
            case "isspace" -> (Fn) (a, e) -> !s.isEmpty() && s.chars().allMatch(c -> Values.jsSpace((char) c));
            case "format" -> (Fn) (a, e) -> {
                StringBuilder sb = new StringBuilder();
                int k = 0;
                for (int i = 0; i < s.length(); i++) {
                    if (s.startsWith("{}", i) && k < a.size()) {
                        sb.append(jsString(a.get(k++)));
                        i++;
                    } else {
                        sb.append(s.charAt(i));
                    }
                }
                return sb.toString();
            };
            default -> UNDEFINED;
        };
    }

    private static String replace(String s, String old, String nw, long count) {
        if (count < 0) {
            return old.isEmpty() ? insertEverywhere(s, nw, -1) : s.replace(old, nw);
        }
        if (old.isEmpty()) {
            return insertEverywhere(s, nw, count);
        }
        StringBuilder sb = new StringBuilder();
        int i = 0;
        long done = 0;
        while (done < count) {
            int j = s.indexOf(old, i);
            if (j < 0) {
                break;
            }
            sb.append(s, i, j).append(nw);
            i = j + old.length();
            done++;
        }
        return sb.append(s.substring(i)).toString();
    }

    private static String insertEverywhere(String s, String nw, long count) {
        StringBuilder sb = new StringBuilder();
        long done = 0;
        for (int i = 0; i <= s.length(); i++) {
            if (count < 0 || done < count) {
                sb.append(nw);
                done++;
            }
            if (i < s.length()) {
                sb.append(s.charAt(i));
            }
        }
        return sb.toString();
    }

    private static List<Object> split(String s, List<Object> a) {
        Object sep = a.isEmpty() ? null : a.get(0);
        if (sep == UNDEFINED) {
            sep = null;
        }
        long maxsplit = a.size() > 1 && a.get(1) instanceof Long l ? l : -1;
        List<Object> result = new ArrayList<>();
        if (sep == null) {
            String text = Values.jsTrim(s, true, false);
            int i = 0;
            int n = text.length();
            while (i < n) {
                int st = i;
                while (i < n && !Values.jsSpace(text.charAt(i))) {
                    i++;
                }
                if (maxsplit != -1 && result.size() >= maxsplit) {
                    result.add(text.substring(st));
                    break;
                }
                result.add(text.substring(st, i));
                while (i < n && Values.jsSpace(text.charAt(i))) {
                    i++;
                }
            }
            return result;
        }
        if (!(sep instanceof String ss)) {
            throw new JinjaException("sep argument must be a string or null");
        }
        if (ss.isEmpty()) {
            throw new JinjaException("empty separator");
        }
        int i = 0;
        while (true) {
            if (maxsplit != -1 && result.size() >= maxsplit) {
                result.add(s.substring(i));
                break;
            }
            int j = s.indexOf(ss, i);
            if (j < 0) {
                result.add(s.substring(i));
                break;
            }
            result.add(s.substring(i, j));
            i = j + ss.length();
        }
        return result;
    }

    // ------------------------------------------------------------------------------------------ filters, tests

    private Object applyFilter(Object operand, String name, List<Node> argNodes, boolean isCall, Env env) {
        List<Object> args = new ArrayList<>();
        KwArgs kw = new KwArgs();
        evalArgs(argNodes, env, args, kw);
        switch (name) {
            case "tojson": {
                Object ind = kw.containsKey("indent") ? kw.get("indent") : args.isEmpty() ? null : args.get(0);
                if (!(ind == null || ind instanceof Long)) {
                    throw new JinjaException("If set, indent must be a number");
                }
                return Values.toJson(operand, (Long) ind, 0);
            }
            case "default":
            case "d": {
                Object def = args.isEmpty() ? "" : args.get(0);
                Object bool = args.size() > 1 ? args.get(1) : kw.getOrDefault("boolean", false);
                if (operand == UNDEFINED || (Boolean.TRUE.equals(bool) && !truthy(operand))) {
                    return def;
                }
                return operand;
            }
            case "safe":
                return operand;
            case "string":
                if (operand instanceof String) {
                    return operand;
                }
                if (operand instanceof List || operand instanceof Map) {
                    return Values.toJson(operand, null, 0);
                }
                return operand == UNDEFINED ? "" : operand == null ? "None" : jsString(operand);
            case "length":
            case "count":
                if (operand instanceof String s) {
                    return (long) s.length();
                }
                if (operand instanceof List<?> l) {
                    return (long) l.size();
                }
                if (operand instanceof Map<?, ?> m) {
                    return (long) m.size();
                }
                break;
            case "int":
            case "float": {
                boolean isInt = name.equals("int");
                Object def = !args.isEmpty() ? args.get(0) : kw.containsKey("default") ? kw.get("default") : isInt ? (Object) 0L : (Object) 0.0;
                if (operand instanceof String s) {
                    try {
                        if (isInt) {
                            java.util.regex.Matcher mm = java.util.regex.Pattern.compile("^\\s*([+-]?\\d+)").matcher(s);
                            return mm.find() ? Long.parseLong(mm.group(1).replace("+", "")) : def;
                        }
                        java.util.regex.Matcher mm = java.util.regex.Pattern.compile("^\\s*([+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?)").matcher(s);
                        return mm.find() ? Double.parseDouble(mm.group(1)) : def;
                    } catch (NumberFormatException ex) {
                        return def;
                    }
                }
                if (operand instanceof Long l) {
                    return isInt ? l : (Object) l.doubleValue();
                }
                if (operand instanceof Double d) {
                    return isInt ? (Object) (long) Math.floor(d) : d;
                }
                if (operand instanceof Boolean b) {
                    return isInt ? (Object) (b ? 1L : 0L) : (Object) (b ? 1.0 : 0.0);
                }
                break;
            }
            case "abs":
                if (operand instanceof Long l) {
                    return Math.abs(l);
                }
                if (operand instanceof Double d) {
                    return Math.abs(d);
                }
                break;
            case "round":
                if (Values.isNumber(operand)) {
                    long prec = args.isEmpty() ? 0 : ((Number) args.get(0)).longValue();
                    double f = Math.pow(10, prec);
                    return Math.round(((Number) operand).doubleValue() * f) / f;
                }
                break;
            case "bool":
                return truthy(operand);
            case "items":
                if (operand instanceof Map<?, ?> m) {
                    @SuppressWarnings("unchecked") Map<String, Object> mm = (Map<String, Object>) m;
                    return items(mm);
                }
                if (operand == UNDEFINED || operand == null) {
                    return new ArrayList<>();
                }
                break;
            case "dictsort":
                if (operand instanceof Map<?, ?> m) {
                    @SuppressWarnings("unchecked") Map<String, Object> mm = (Map<String, Object>) m;
                    List<Object> it = items(mm);
                    it.sort((x, y) -> ((String) ((List<?>) x).get(0)).compareTo((String) ((List<?>) y).get(0)));
                    return it;
                }
                break;
            default:
                break;
        }
        if (operand instanceof List<?> list) {
            switch (name) {
                case "list":
                    return new ArrayList<Object>(list);
                case "first":
                    return list.isEmpty() ? UNDEFINED : list.get(0);
                case "last":
                    return list.isEmpty() ? UNDEFINED : list.get(list.size() - 1);
                case "reverse": {
                    List<Object> r = new ArrayList<>(list);
                    Collections.reverse(r);
                    return r;
                }
                case "sort": {
                    List<Object> r = new ArrayList<>(list);
                    boolean reverse = Boolean.TRUE.equals(kw.get("reverse")) || (!args.isEmpty() && Boolean.TRUE.equals(args.get(0)));
                    Object attr = kw.get("attribute");
                    r.sort((x, y) -> {
                        Object a = attr instanceof String as && x instanceof Map<?, ?> xm ? xm.get(as) : x;
                        Object b = attr instanceof String as && y instanceof Map<?, ?> ym ? ym.get(as) : y;
                        int c;
                        if (Values.isNumber(a) && Values.isNumber(b)) {
                            c = Double.compare(((Number) a).doubleValue(), ((Number) b).doubleValue());
                        } else if (a instanceof String sa && b instanceof String sb) {
                            c = sa.compareTo(sb);
                        } else {
                            throw new JinjaException("Cannot compare " + typeName(a) + " and " + typeName(b));
                        }
                        return reverse ? -c : c;
                    });
                    return r;
                }
                case "join": {
                    String sep = !args.isEmpty() ? jsString(args.get(0)) : kw.containsKey("separator") ? jsString(kw.get("separator")) : "";
                    List<String> parts = new ArrayList<>();
                    for (Object x : list) {
                        parts.add(x == null || x == UNDEFINED ? "" : jsString(x));
                    }
                    return String.join(sep, parts);
                }
                case "unique": {
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
                case "selectattr":
                case "rejectattr": {
                    boolean select = name.equals("selectattr");
                    if (args.isEmpty() || !(args.get(0) instanceof String attr)) {
                        throw new JinjaException("arguments of `" + name + "` must be strings");
                    }
                    BiPredicate<Object, List<Object>> t = args.size() > 1 ? testFn(jsString(args.get(1))) : (x, y) -> truthy(x);
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
                case "select":
                case "reject": {
                    boolean select = name.equals("select");
                    BiPredicate<Object, List<Object>> t = !args.isEmpty() ? testFn(jsString(args.get(0))) : (x, y) -> truthy(x);
                    List<Object> rest = args.size() > 1 ? args.subList(1, args.size()) : List.of();
                    List<Object> r = new ArrayList<>();
                    for (Object item : list) {
                        if (select == t.test(item, rest)) {
                            r.add(item);
                        }
                    }
                    return r;
                }
                case "map": {
                    if (kw.get("attribute") instanceof String attr) {
                        Object def = kw.containsKey("default") ? kw.get("default") : UNDEFINED;
                        List<Object> r = new ArrayList<>();
                        for (Object item : list) {
                            if (!(item instanceof Map<?, ?> im)) {
                                throw new JinjaException("items in map must be an object");
                            }
                            r.add(im.containsKey(attr) ? im.get(attr) : def);
                        }
                        return r;
                    }
                    if (!args.isEmpty() && args.get(0) instanceof String fname) {
                        List<Object> r = new ArrayList<>();
                        for (Object item : list) {
                            r.add(applyFilterValue(item, fname, env));
                        }
                        return r;
                    }
                    throw new JinjaException("`map` expressions without `attribute` set are not currently supported.");
                }
                default:
                    break;
            }
        } else if (operand instanceof String s) {
            switch (name) {
                case "upper", "lower", "title", "capitalize":
                    return ((Fn) stringBuiltin(s, name)).call(List.of(), env);
                case "trim":
                    return Values.jsTrim(s, true, true);
                case "list": {
                    List<Object> r = new ArrayList<>();
                    s.codePoints().forEach(cp -> r.add(new String(Character.toChars(cp))));
                    return r;
                }
                case "first":
                    return s.isEmpty() ? UNDEFINED : s.substring(0, Character.charCount(s.codePointAt(0)));
                case "last":
                    return s.isEmpty() ? UNDEFINED : new String(Character.toChars(s.codePointBefore(s.length())));
                case "reverse":
                    return new StringBuilder(s).reverse().toString();
                case "join": {
                    String sep = !args.isEmpty() ? jsString(args.get(0)) : kw.containsKey("separator") ? jsString(kw.get("separator")) : "";
                    List<String> parts = new ArrayList<>();
                    s.codePoints().forEach(cp -> parts.add(new String(Character.toChars(cp))));
                    return String.join(sep, parts);
                }
                case "indent": {
                    Object w = !args.isEmpty() ? args.get(0) : kw.getOrDefault("width", 4L);
                    Object first = args.size() > 1 ? args.get(1) : kw.getOrDefault("first", false);
                    Object blank = args.size() > 2 ? args.get(2) : kw.getOrDefault("blank", false);
                    String ind = w instanceof Long l ? " ".repeat(l.intValue()) : jsString(w);
                    String[] lines = s.split("\n", -1);
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
                case "replace": {
                    List<Object> a = new ArrayList<>(args);
                    a.add(kw);
                    return ((Fn) stringBuiltin(s, "replace")).call(a, env);
                }
                case "wordcount":
                    return (long) split(s, List.of()).size();
                case "escape", "e":
                    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                            .replace("\"", "&#34;").replace("'", "&#39;");
                default:
                    break;
            }
        }
        throw new JinjaException("Cannot apply filter \"" + name + "\" to type: " + typeName(operand));
    }

    private Object applyFilterValue(Object v, String name, Env env) {
        return applyFilter(v, name, List.of(), false, env);
    }

    private Object test(Node.Test t, Env env) {
        Object operand = eval(t.operand(), env);
        List<Object> args = new ArrayList<>();
        KwArgs kw = new KwArgs();
        evalArgs(t.args(), env, args, kw);
        boolean r = testFn(t.name()).test(operand, args);
        return t.negate() != r;
    }

    private BiPredicate<Object, List<Object>> testFn(String name) {
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

    // ------------------------------------------------------------------------------------------ globals

    private static Object range(List<Object> args) {
        List<Object> a = new ArrayList<>(args);
        if (!a.isEmpty() && a.get(a.size() - 1) instanceof KwArgs) {
            a.remove(a.size() - 1);
        }
        long start = 0;
        long stop;
        long step = 1;
        if (a.size() == 1) {
            stop = num(a.get(0));
        } else if (a.size() >= 2) {
            start = num(a.get(0));
            stop = num(a.get(1));
            if (a.size() > 2) {
                step = num(a.get(2));
            }
        } else {
            throw new JinjaException("range expected at least 1 argument");
        }
        if (step == 0) {
            throw new JinjaException("range() arg 3 must not be zero");
        }
        List<Object> r = new ArrayList<>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step) {
            r.add(i);
        }
        return r;
    }

    private static long num(Object o) {
        if (o instanceof Long l) {
            return l;
        }
        throw new JinjaException("range() arguments must be integers");
    }

    /** Python {@code strftime} for the directives chat templates use. */
    static String strftime(LocalDateTime t, String fmt) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c != '%' || i + 1 >= fmt.length()) {
                sb.append(c);
                continue;
            }
            char d = fmt.charAt(++i);
            boolean noPad = false;
            if (d == '-' && i + 1 < fmt.length()) {
                noPad = true;
                d = fmt.charAt(++i);
            }
            String v = switch (d) {
                case 'd' -> pad(t.getDayOfMonth(), noPad);
                case 'e' -> String.format("%2d", t.getDayOfMonth());
                case 'm' -> pad(t.getMonthValue(), noPad);
                case 'Y' -> Integer.toString(t.getYear());
                case 'y' -> pad(t.getYear() % 100, noPad);
                case 'H' -> pad(t.getHour(), noPad);
                case 'I' -> pad(t.getHour() % 12 == 0 ? 12 : t.getHour() % 12, noPad);
                case 'M' -> pad(t.getMinute(), noPad);
                case 'S' -> pad(t.getSecond(), noPad);
                case 'p' -> t.getHour() < 12 ? "AM" : "PM";
                case 'b', 'h' -> t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case 'B' -> t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
                case 'a' -> t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
                case 'A' -> t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
                case 'j' -> noPad ? Integer.toString(t.getDayOfYear()) : String.format("%03d", t.getDayOfYear());
                case '%' -> "%";
                default -> "%" + (noPad ? "-" : "") + d;
            };
            sb.append(v);
        }
        return sb.toString();
    }

    private static String pad(int v, boolean noPad) {
        return noPad ? Integer.toString(v) : String.format("%02d", v);
    }
}

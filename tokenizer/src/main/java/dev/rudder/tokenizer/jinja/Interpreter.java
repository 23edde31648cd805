package dev.rudder.tokenizer.jinja;

import dev.rudder.tokenizer.jinja.Values.Fn;
import dev.rudder.tokenizer.jinja.Values.KwArgs;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.rudder.tokenizer.jinja.Values.UNDEFINED;
import static dev.rudder.tokenizer.jinja.Values.jsString;
import static dev.rudder.tokenizer.jinja.Values.truthy;
import static dev.rudder.tokenizer.jinja.Values.typeName;

/**
 * Evaluates a parsed template with the semantics of the {@code @huggingface/jinja} runtime,
 * inside the {@link Limits} of its {@link Budget}: every statement and expression is a step,
 * every nesting level is counted, and strings and lists are checked before they are built.
 * Filters live in {@link Filters}, string methods in {@link StringMethods}, tests in
 * {@link Tests}, global names in {@link Globals}. One interpreter per render.
 */
final class Interpreter {
    private final Budget budget;

    Interpreter(Budget budget) {
        this.budget = budget;
    }

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

    // ------------------------------------------------------------------------------------------- statements

    void block(List<Node> nodes, Env env, StringBuilder out) {
        for (Node n : nodes) {
            exec(n, env, out);
        }
    }

    /** Appends to an output buffer within the output limit. */
    private void append(StringBuilder out, CharSequence s) {
        budget.checkString((long) out.length() + s.length(), "output");
        out.append(s);
    }

    String blockToString(List<Node> nodes, Env env) {
        StringBuilder sb = new StringBuilder();
        block(nodes, env, sb);
        return sb.toString();
    }

    private void exec(Node n, Env env, StringBuilder out) {
        budget.step();
        budget.enter();
        try {
            execStep(n, env, out);
        } finally {
            budget.leave();
        }
    }

    private void execStep(Node n, Env env, StringBuilder out) {
        switch (n) {
            case Node.Text t -> append(out, t.value());
            case Node.Comment c -> {
            }
            case Node.If i -> block(truthy(eval(i.test(), env)) ? i.body() : i.alternate(), env, out);
            case Node.For f -> execFor(f, env, out);
            case Node.Set s -> execSet(s, env);
            case Node.Macro m -> defineMacro(m, env);
            case Node.Break b -> throw new BreakSignal();
            case Node.Continue c -> throw new ContinueSignal();
            case Node.CallBlock cb -> append(out, Values.render(execCallBlock(cb, env)));
            case Node.FilterBlock fb -> {
                Object r = applyFilter(blockToString(fb.body(), env), fb.name(), fb.args(), fb.call(), env);
                if (r != null && r != UNDEFINED) {
                    append(out, Values.render(r));
                }
            }
            default -> {
                Object v = eval(n, env);
                if (v != null && v != UNDEFINED) {
                    append(out, Values.render(v));
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
            budget.checkItems(s.length(), "loop over the characters of a string");
            List<Object> chars = new ArrayList<>();
            s.codePoints().forEach(cp -> chars.add(new String(Character.toChars(cp))));
            items = chars;
        } else {
            throw new JinjaException("Expected iterable or object type in for loop: got " + typeName(iterable));
        }
        List<Object> kept = new ArrayList<>();
        for (Object cur : items) {
            budget.step();
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
            budget.step();
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
                append(out, body);
                continue;
            } catch (BreakSignal b) {
                append(out, body);
                break;
            }
            append(out, body);
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
        budget.step();
        budget.enter();
        try {
            return evalStep(n, env);
        } finally {
            budget.leave();
        }
    }

    private Object evalStep(Node n, Env env) {
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
            return concat(jsString(left), jsString(right));
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
                budget.checkItems((long) l.size() + r.size(), "list concatenation");
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
                return concat(jsString(left), jsString(right));
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
            long times = Math.max(0, k);
            budget.checkString(times > Integer.MAX_VALUE ? Long.MAX_VALUE : s.length() * times,
                    "string repetition ('" + abbreviate(s) + "' * " + k + ")");
            return s.repeat((int) times);
        }
        throw new JinjaException("Unknown operator \"" + op + "\" between " + typeName(left) + " and " + typeName(right));
    }

    private String concat(String a, String b) {
        budget.checkString((long) a.length() + b.length(), "string concatenation");
        return a + b;
    }

    private static String abbreviate(String s) {
        return s.length() <= 20 ? s : s.substring(0, 20) + "...";
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
                value = StringMethods.method(str, ps, budget);
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
            case "items" -> (Fn) (args, e) -> Filters.items(m);
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

    // ------------------------------------------------------------------------------------------ filters, tests

    private Object applyFilter(Object operand, String name, List<Node> argNodes, boolean isCall, Env env) {
        List<Object> args = new ArrayList<>();
        KwArgs kw = new KwArgs();
        evalArgs(argNodes, env, args, kw);
        return Filters.apply(name, operand, new Filters.Call(args, kw, this, env, budget));
    }

    private Object test(Node.Test t, Env env) {
        Object operand = eval(t.operand(), env);
        List<Object> args = new ArrayList<>();
        KwArgs kw = new KwArgs();
        evalArgs(t.args(), env, args, kw);
        boolean r = Tests.get(t.name()).test(operand, args);
        return t.negate() != r;
    }

}

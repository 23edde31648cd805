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
            case Node.Unary u -> Operators.unary(u.op(), eval(u.arg(), env));
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

    private Object binary(Node.Binary b, Env env) {
        Object left = eval(b.left(), env);
        String op = b.op();
        if (op.equals("and")) {
            return truthy(left) ? eval(b.right(), env) : left;
        }
        if (op.equals("or")) {
            return truthy(left) ? left : eval(b.right(), env);
        }
        return Operators.binary(op, left, eval(b.right(), env), budget);
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
            return Members.slice(obj, eval(s.start(), env), eval(s.stop(), env), eval(s.step(), env));
        }
        Object prop = m.computed() ? eval(m.property(), env) : ((Node.Ident) m.property()).name();
        return Members.get(obj, prop, budget);
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

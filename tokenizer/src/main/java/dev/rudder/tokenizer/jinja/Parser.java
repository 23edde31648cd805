package dev.rudder.tokenizer.jinja;

import dev.rudder.tokenizer.jinja.Lexer.T;
import dev.rudder.tokenizer.jinja.Lexer.Tok;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** Recursive-descent parser with the operator precedence of {@code @huggingface/jinja}. */
final class Parser {
    private final List<Tok> toks;
    private final Budget budget;   // nesting depth: statements in statements, expressions in expressions
    private int cur;

    private Parser(List<Tok> toks, Budget budget) {
        this.toks = toks;
        this.budget = budget;
    }

    static List<Node> parse(List<Tok> toks, Budget budget) {
        Parser p = new Parser(toks, budget);
        List<Node> body = new ArrayList<>();
        while (p.cur < toks.size()) {
            body.add(p.parseAny());
        }
        return body;
    }

    private Tok peek(int k) {
        return cur + k < toks.size() ? toks.get(cur + k) : null;
    }

    private boolean is(T type) {
        Tok t = peek(0);
        return t != null && t.type() == type;
    }

    private boolean isIdent(String name) {
        Tok t = peek(0);
        return t != null && t.type() == T.IDENT && t.value().equals(name);
    }

    private boolean isStmt(Set<String> names) {
        Tok a = peek(0);
        Tok b = peek(1);
        return a != null && a.type() == T.OPEN_STMT && b != null && b.type() == T.IDENT && names.contains(b.value());
    }

    private Tok expect(T type, String what) {
        Tok t = peek(0);
        if (t == null || t.type() != type) {
            throw new JinjaException("Parser Error: " + what + ". " + (t == null ? "end of input" : t.type() + " '" + t.value() + "'")
                    + " !== " + type + ".");
        }
        cur++;
        return t;
    }

    private void expectIdent(String name) {
        Tok t = peek(0);
        if (t == null || t.type() != T.IDENT || !t.value().equals(name)) {
            throw new JinjaException("Parser Error: expected '" + name + "', got " + (t == null ? "end of input" : "'" + t.value() + "'"));
        }
        cur++;
    }

    private Node parseAny() {
        Tok t = peek(0);
        switch (t.type()) {
            case TEXT:
                cur++;
                return new Node.Text(t.value());
            case COMMENT:
                cur++;
                return new Node.Comment();
            case OPEN_STMT:
                return parseStatement();
            case OPEN_EXPR: {
                cur++;
                Node e = parseExpression();
                expect(T.CLOSE_EXPR, "Expected closing expression token");
                return e;
            }
            default:
                throw new JinjaException("Unexpected token type: " + t.type() + " '" + t.value() + "'");
        }
    }

    private List<Node> parseUntil(Set<String> stops) {
        List<Node> body = new ArrayList<>();
        while (!isStmt(stops)) {
            if (cur >= toks.size()) {
                throw new JinjaException("Parser Error: unexpected end of template, expected one of " + stops);
            }
            body.add(parseAny());
        }
        return body;
    }

    private void endTag(String name) {
        expect(T.OPEN_STMT, "Expected {% token");
        expectIdent(name);
        expect(T.CLOSE_STMT, "Expected %} token");
    }

    private Node parseStatement() {
        budget.enter();
        try {
            return parseStatementBody();
        } finally {
            budget.leave();
        }
    }

    private Node parseStatementBody() {
        expect(T.OPEN_STMT, "Expected opening statement token");
        Tok t = peek(0);
        if (t == null || t.type() != T.IDENT) {
            throw new JinjaException("Unknown statement type: " + (t == null ? "end of input" : t.type()));
        }
        cur++;
        switch (t.value()) {
            case "set": {
                Node target = parseExpressionSequence(false);
                if (is(T.EQUALS)) {
                    cur++;
                    Node value = parseExpressionSequence(false);
                    expect(T.CLOSE_STMT, "Expected closing statement token");
                    return new Node.Set(target, value, List.of());
                }
                expect(T.CLOSE_STMT, "Expected %} token");
                List<Node> body = parseUntil(Set.of("endset"));
                endTag("endset");
                return new Node.Set(target, null, body);
            }
            case "if": {
                Node n = parseIf();
                endTag("endif");
                return n;
            }
            case "for": {
                Node loopVar = parseExpressionSequence(true);
                if (!(loopVar instanceof Node.Ident || loopVar instanceof Node.TupleLit)) {
                    throw new JinjaException("Expected identifier/tuple for the loop variable");
                }
                expectIdent("in");
                Node iterable = parseExpression();
                expect(T.CLOSE_STMT, "Expected closing statement token");
                List<Node> body = parseUntil(Set.of("endfor", "else"));
                List<Node> alt = new ArrayList<>();
                if (isStmt(Set.of("else"))) {
                    cur += 2;
                    expect(T.CLOSE_STMT, "Expected closing statement token");
                    alt = parseUntil(Set.of("endfor"));
                }
                endTag("endfor");
                return new Node.For(loopVar, iterable, body, alt);
            }
            case "macro": {
                Tok name = expect(T.IDENT, "Expected macro name");
                List<Node> args = parseArgs();
                expect(T.CLOSE_STMT, "Expected closing statement token");
                List<Node> body = parseUntil(Set.of("endmacro"));
                endTag("endmacro");
                return new Node.Macro(name.value(), args, body);
            }
            case "call": {
                List<Node> callerArgs = List.of();
                if (is(T.LPAREN)) {
                    callerArgs = parseArgs();
                }
                Node callee = parsePrimary();
                if (!(callee instanceof Node.Ident)) {
                    throw new JinjaException("Expected identifier following call statement");
                }
                List<Node> args = parseArgs();
                expect(T.CLOSE_STMT, "Expected closing statement token");
                List<Node> body = parseUntil(Set.of("endcall"));
                endTag("endcall");
                return new Node.CallBlock(new Node.Call(callee, args), callerArgs, body);
            }
            case "filter": {
                Tok name = expect(T.IDENT, "Expected filter name");
                List<Node> args = List.of();
                boolean call = false;
                if (is(T.LPAREN)) {
                    args = parseArgs();
                    call = true;
                }
                expect(T.CLOSE_STMT, "Expected closing statement token");
                List<Node> body = parseUntil(Set.of("endfilter"));
                endTag("endfilter");
                return new Node.FilterBlock(name.value(), args, call, body);
            }
            case "break":
                expect(T.CLOSE_STMT, "Expected closing statement token");
                return new Node.Break();
            case "continue":
                expect(T.CLOSE_STMT, "Expected closing statement token");
                return new Node.Continue();
            default:
                throw new JinjaException("Unknown statement type: " + t.value());
        }
    }

    /** After {@code if}: test %} body [elif ... | else ...]; leaves {@code {% endif %}} for the caller. */
    private Node parseIf() {
        Node test = parseExpression();
        expect(T.CLOSE_STMT, "Expected closing statement token");
        List<Node> body = parseUntil(Set.of("elif", "else", "endif"));
        List<Node> alt = new ArrayList<>();
        if (isStmt(Set.of("elif"))) {
            cur += 2;
            budget.enter();
            try {
                alt.add(parseIf());
            } finally {
                budget.leave();
            }
        } else if (isStmt(Set.of("else"))) {
            cur += 2;
            expect(T.CLOSE_STMT, "Expected closing statement token");
            alt = parseUntil(Set.of("endif"));
        }
        return new Node.If(test, body, alt);
    }

    private Node parseExpressionSequence(boolean primary) {
        List<Node> items = new ArrayList<>();
        items.add(primary ? parsePrimary() : parseExpression());
        boolean tuple = is(T.COMMA);
        while (tuple) {
            cur++;
            items.add(primary ? parsePrimary() : parseExpression());
            if (!is(T.COMMA)) {
                break;
            }
        }
        return tuple ? new Node.TupleLit(items) : items.get(0);
    }

    private Node parseExpression() {
        return parseIfExpression();
    }

    private Node parseIfExpression() {
        budget.enter();
        try {
            return parseIfExpressionBody();
        } finally {
            budget.leave();
        }
    }

    private Node parseIfExpressionBody() {
        Node a = parseOr();
        if (isIdent("if")) {
            cur++;
            Node predicate = parseOr();
            if (isIdent("else")) {
                cur++;
                Node b = parseIfExpression();
                return new Node.Ternary(predicate, a, b);
            }
            return new Node.Select(a, predicate);
        }
        return a;
    }

    private Node parseOr() {
        Node left = parseAnd();
        while (isIdent("or")) {
            cur++;
            left = new Node.Binary("or", left, parseAnd());
        }
        return left;
    }

    private Node parseAnd() {
        Node left = parseNot();
        while (isIdent("and")) {
            cur++;
            left = new Node.Binary("and", left, parseNot());
        }
        return left;
    }

    private Node parseNot() {
        if (isIdent("not")) {
            cur++;
            budget.enter();
            try {
                return new Node.Unary("not", parseNot());
            } finally {
                budget.leave();
            }
        }
        return parseComparison();
    }

    private Node parseComparison() {
        Node left = parseAdditive();
        while (true) {
            String op;
            if (is(T.CMP_OP)) {
                op = peek(0).value();
                cur++;
            } else if (isIdent("in")) {
                op = "in";
                cur++;
            } else if (isIdent("not") && peek(1) != null && peek(1).type() == T.IDENT && peek(1).value().equals("in")) {
                op = "not in";
                cur += 2;
            } else {
                break;
            }
            left = new Node.Binary(op, left, parseAdditive());
        }
        return left;
    }

    private Node parseAdditive() {
        Node left = parseMultiplicative();
        while (is(T.ADD_OP)) {
            String op = peek(0).value();
            cur++;
            left = new Node.Binary(op, left, parseMultiplicative());
        }
        return left;
    }

    private Node parseMultiplicative() {
        Node left = parseTest();
        while (is(T.MUL_OP)) {
            String op = peek(0).value();
            cur++;
            left = new Node.Binary(op, left, parseTest());
        }
        return left;
    }

    private Node parseTest() {
        Node operand = parseFilter();
        while (isIdent("is")) {
            cur++;
            boolean negate = false;
            if (isIdent("not")) {
                negate = true;
                cur++;
            }
            Tok name = expect(T.IDENT, "Expected identifier for the test");
            List<Node> args = List.of();
            if (is(T.LPAREN)) {
                args = parseArgs();
            } else if (is(T.NUMBER) || is(T.STRING)) {
                args = List.of(parsePrimary());
            }
            operand = new Node.Test(operand, negate, name.value(), args);
        }
        return operand;
    }

    private Node parseFilter() {
        Node operand = parseCallMember();
        while (is(T.PIPE)) {
            cur++;
            Tok name = expect(T.IDENT, "Expected identifier for the filter");
            if (is(T.LPAREN)) {
                operand = new Node.Filter(operand, name.value(), parseArgs(), true);
            } else {
                operand = new Node.Filter(operand, name.value(), List.of(), false);
            }
        }
        return operand;
    }

    private Node parseCallMember() {
        Node n = parsePrimary();
        while (true) {
            if (is(T.DOT)) {
                cur++;
                Tok prop = expect(T.IDENT, "Expected identifier following dot operator");
                n = new Node.Member(n, new Node.Ident(prop.value()), false);
            } else if (is(T.LBRACKET)) {
                cur++;
                Node prop = parseMemberArgs();
                expect(T.RBRACKET, "Expected closing square bracket");
                n = new Node.Member(n, prop, true);
            } else if (is(T.LPAREN)) {
                n = new Node.Call(n, parseArgs());
            } else {
                return n;
            }
        }
    }

    private Node parseMemberArgs() {
        List<Node> slices = new ArrayList<>();
        boolean isSlice = false;
        while (!is(T.RBRACKET)) {
            if (cur >= toks.size()) {
                throw new JinjaException("Parser Error: unexpected end in [...]");
            }
            if (is(T.COLON)) {
                slices.add(null);
                cur++;
                isSlice = true;
            } else {
                slices.add(parseExpression());
                if (is(T.COLON)) {
                    cur++;
                    isSlice = true;
                }
            }
        }
        if (slices.isEmpty()) {
            throw new JinjaException("Expected at least one argument for member/slice expression");
        }
        if (isSlice) {
            if (slices.size() > 3) {
                throw new JinjaException("Expected 0-3 arguments for slice expression");
            }
            return new Node.Slice(slices.get(0), slices.size() > 1 ? slices.get(1) : null, slices.size() > 2 ? slices.get(2) : null);
        }
        return slices.get(0);
    }

    private List<Node> parseArgs() {
        expect(T.LPAREN, "Expected opening parenthesis for arguments list");
        List<Node> args = new ArrayList<>();
        while (!is(T.RPAREN)) {
            if (cur >= toks.size()) {
                throw new JinjaException("Parser Error: unexpected end in argument list");
            }
            Node arg = parseExpression();
            if (is(T.EQUALS)) {
                cur++;
                if (!(arg instanceof Node.Ident id)) {
                    throw new JinjaException("Expected identifier for keyword argument");
                }
                arg = new Node.KwArg(id.name(), parseExpression());
            }
            args.add(arg);
            if (is(T.COMMA)) {
                cur++;
            }
        }
        cur++;
        return args;
    }

    private Node parsePrimary() {
        Tok t = peek(0);
        if (t == null) {
            throw new JinjaException("Unexpected end of template");
        }
        switch (t.type()) {
            case NUMBER: {
                cur++;
                String v = t.value();
                try {
                    if (v.contains(".")) {
                        return new Node.FloatLit(Double.parseDouble(v));
                    }
                    return new Node.IntLit(Long.parseLong(v));
                } catch (NumberFormatException e) {
                    throw new JinjaException("number literal " + (v.length() > 30 ? v.substring(0, 30) + "..." : v)
                            + " is out of range");
                }
            }
            case STRING: {
                cur++;
                StringBuilder s = new StringBuilder(t.value());
                while (is(T.STRING)) {
                    s.append(peek(0).value());
                    cur++;
                }
                return new Node.Str(s.toString());
            }
            case IDENT:
                cur++;
                return new Node.Ident(t.value());
            case UNARY_OP: {
                cur++;
                budget.enter();
                try {
                    return new Node.Unary(t.value(), parseCallMember());
                } finally {
                    budget.leave();
                }
            }
            case LPAREN: {
                cur++;
                Node e = parseExpressionSequence(false);
                expect(T.RPAREN, "Expected closing parenthesis");
                return e;
            }
            case LBRACKET: {
                cur++;
                List<Node> items = new ArrayList<>();
                while (!is(T.RBRACKET)) {
                    if (cur >= toks.size()) {
                        throw new JinjaException("Parser Error: unexpected end in list literal");
                    }
                    items.add(parseExpression());
                    if (is(T.COMMA)) {
                        cur++;
                    }
                }
                cur++;
                return new Node.ArrayLit(items);
            }
            case LBRACE: {
                cur++;
                List<Node> keys = new ArrayList<>();
                List<Node> values = new ArrayList<>();
                while (!is(T.RBRACE)) {
                    if (cur >= toks.size()) {
                        throw new JinjaException("Parser Error: unexpected end in object literal");
                    }
                    keys.add(parseExpression());
                    expect(T.COLON, "Expected colon between key and value in object literal");
                    values.add(parseExpression());
                    if (is(T.COMMA)) {
                        cur++;
                    }
                }
                cur++;
                return new Node.ObjectLit(keys, values);
            }
            default:
                throw new JinjaException("Unexpected token: " + t.type() + " '" + t.value() + "'");
        }
    }
}

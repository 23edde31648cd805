package dev.rudder.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** Tokenizer of Jinja source with the whitespace semantics of {@code @huggingface/jinja} (trim_blocks, lstrip_blocks). */
final class Lexer {
    enum T {
        TEXT, NUMBER, STRING, IDENT, EQUALS, LPAREN, RPAREN, OPEN_STMT, CLOSE_STMT, OPEN_EXPR, CLOSE_EXPR,
        LBRACKET, RBRACKET, LBRACE, RBRACE, COMMA, DOT, COLON, PIPE, ADD_OP, MUL_OP, CMP_OP, UNARY_OP, COMMENT
    }

    record Tok(String value, T type) {
    }

    private static final String[][] TABLE = {
            {"{%", "OPEN_STMT"}, {"%}", "CLOSE_STMT"}, {"{{", "OPEN_EXPR"}, {"}}", "CLOSE_EXPR"},
            {"(", "LPAREN"}, {")", "RPAREN"}, {"{", "LBRACE"}, {"}", "RBRACE"}, {"[", "LBRACKET"}, {"]", "RBRACKET"},
            {",", "COMMA"}, {".", "DOT"}, {":", "COLON"}, {"|", "PIPE"},
            {"<=", "CMP_OP"}, {">=", "CMP_OP"}, {"==", "CMP_OP"}, {"!=", "CMP_OP"}, {"<", "CMP_OP"}, {">", "CMP_OP"},
            {"+", "ADD_OP"}, {"-", "ADD_OP"}, {"~", "ADD_OP"},
            {"*", "MUL_OP"}, {"//", "MUL_OP"}, {"/", "MUL_OP"}, {"%", "MUL_OP"},
            {"=", "EQUALS"},
    };

    /** JavaScript's {@code \s}. */
    static boolean isJsSpace(char c) {
        return c == ' ' || (c >= '\t' && c <= '\r') || c == '\u00A0' || c == '\u1680' || (c >= '\u2000' && c <= '\u200A')
                || c == '\u2028' || c == '\u2029' || c == '\u202F' || c == '\u205F' || c == '\u3000' || c == '\uFEFF';
    }

    static final String JS_SPACE = "[\\t\\n\\u000B\\f\\r \\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000\\uFEFF]";
    private static final Pattern LSTRIP = Pattern.compile("^[ \\t]*(\\{[#%-])", Pattern.MULTILINE);
    private static final Pattern TRIM = Pattern.compile("([#%-]\\})\\n");

    static String preprocess(String t, boolean trimBlocks, boolean lstripBlocks) {
        if (t.endsWith("\n")) {
            t = t.substring(0, t.length() - 1);
        }
        if (lstripBlocks) {
            t = LSTRIP.matcher(t).replaceAll("$1");
        }
        if (trimBlocks) {
            t = TRIM.matcher(t).replaceAll("$1");
        }
        return stripGenerationTags(t);
    }

    /**
     * Removes {@code {% generation %}} / {@code {% endgeneration %}} tags (HF's assistant-mask markers)
     * with the whitespace control the reference applies: the whitespace run before a tag is kept
     * unless the tag opens with {@code -}, the run after it unless it closes with {@code -}. A
     * linear scan: the equivalent regex, {@code (\s*)\{%...}, retries its leading {@code \s*}
     * from every start position and took 20 s on 10,000 spaces.
     */
    static String stripGenerationTags(String t) {
        StringBuilder sb = new StringBuilder(t.length());
        int copied = 0;       // t[0, copied) is in sb
        int from = 0;
        int open;
        while ((open = t.indexOf("{%", from)) >= 0) {
            int i = open + 2;
            boolean dashOpen = i < t.length() && t.charAt(i) == '-';
            if (dashOpen) {
                i++;
            }
            while (i < t.length() && isJsSpace(t.charAt(i))) {
                i++;
            }
            if (t.startsWith("end", i)) {
                i += 3;
            }
            if (!t.startsWith("generation", i)) {
                from = open + 2;
                continue;
            }
            i += "generation".length();
            while (i < t.length() && isJsSpace(t.charAt(i))) {
                i++;
            }
            boolean dashClose = i < t.length() && t.charAt(i) == '-';
            if (dashClose) {
                i++;
            }
            if (!t.startsWith("%}", i)) {
                from = open + 2;
                continue;
            }
            int close = i + 2;
            int before = open;   // the whitespace run just before the tag, not reaching back past the last tag
            while (before > copied && isJsSpace(t.charAt(before - 1))) {
                before--;
            }
            int after = close;
            while (after < t.length() && isJsSpace(t.charAt(after))) {
                after++;
            }
            sb.append(t, copied, before);
            if (!dashOpen) {
                sb.append(t, before, open);
            }
            if (!dashClose) {
                sb.append(t, close, after);
            }
            copied = after;
            from = after;
        }
        return sb.append(t, copied, t.length()).toString();
    }

    private final String src;
    private int pos;
    private final List<Tok> tokens = new ArrayList<>();

    private Lexer(String src) {
        this.src = src;
    }

    static List<Tok> tokenize(String source, boolean trimBlocks, boolean lstripBlocks) {
        Lexer l = new Lexer(preprocess(source, trimBlocks, lstripBlocks));
        l.run();
        return l.tokens;
    }

    private char at(int i) {
        return i < src.length() ? src.charAt(i) : '\0';
    }

    private boolean has(int i) {
        return i < src.length();
    }

    private Tok last() {
        return tokens.isEmpty() ? null : tokens.get(tokens.size() - 1);
    }

    private interface CharPred {
        boolean test(char c);
    }

    private String consumeWhile(CharPred p) {
        StringBuilder sb = new StringBuilder();
        while (has(pos) && p.test(src.charAt(pos))) {
            if (src.charAt(pos) == '\\') {
                pos++;
                if (!has(pos)) {
                    throw new JinjaException("Unexpected end of input");
                }
                char e = src.charAt(pos++);
                switch (e) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case 'r' -> sb.append('\r');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'v' -> sb.append('\u000B');
                    case '\'' -> sb.append('\'');
                    case '"' -> sb.append('"');
                    case '\\' -> sb.append('\\');
                    default -> throw new JinjaException("Unexpected escaped character: " + e);
                }
                continue;
            }
            sb.append(src.charAt(pos++));
            if (!has(pos)) {
                throw new JinjaException("Unexpected end of input");
            }
        }
        return sb.toString();
    }

    private void stripTrailingWhitespace() {
        Tok l = last();
        if (l != null && l.type() == T.TEXT) {
            String v = l.value();
            int e = v.length();
            while (e > 0 && isJsSpace(v.charAt(e - 1))) {
                e--;
            }
            tokens.remove(tokens.size() - 1);
            if (e > 0) {
                tokens.add(new Tok(v.substring(0, e), T.TEXT));
            }
        }
    }

    private void skipLeadingWhitespace() {
        while (has(pos) && isJsSpace(src.charAt(pos))) {
            pos++;
        }
    }

    private static boolean isWord(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private void run() {
        int curly = 0;
        main:
        while (pos < src.length()) {
            Tok l = last();
            T lt = l == null ? null : l.type();
            if (lt == null || lt == T.CLOSE_STMT || lt == T.CLOSE_EXPR || lt == T.COMMENT) {
                StringBuilder text = new StringBuilder();
                while (pos < src.length()
                        && !(src.charAt(pos) == '{' && (at(pos + 1) == '%' || at(pos + 1) == '{' || at(pos + 1) == '#'))) {
                    text.append(src.charAt(pos++));
                }
                if (!text.isEmpty()) {
                    tokens.add(new Tok(text.toString(), T.TEXT));
                    continue;
                }
            }
            if (at(pos) == '{' && at(pos + 1) == '#') {
                pos += 2;
                boolean stripBefore = at(pos) == '-';
                if (stripBefore) {
                    pos++;
                }
                StringBuilder comment = new StringBuilder();
                while (at(pos) != '#' || at(pos + 1) != '}') {
                    if (pos + 2 >= src.length()) {
                        throw new JinjaException("Missing end of comment tag");
                    }
                    comment.append(src.charAt(pos++));
                }
                boolean stripAfter = !comment.isEmpty() && comment.charAt(comment.length() - 1) == '-';
                if (stripAfter) {
                    comment.setLength(comment.length() - 1);
                }
                if (stripBefore) {
                    stripTrailingWhitespace();
                }
                tokens.add(new Tok(comment.toString(), T.COMMENT));
                pos += 2;
                if (stripAfter) {
                    skipLeadingWhitespace();
                }
                continue;
            }
            if (src.startsWith("{%-", pos)) {
                stripTrailingWhitespace();
                tokens.add(new Tok("{%", T.OPEN_STMT));
                pos += 3;
                continue;
            }
            if (src.startsWith("{{-", pos)) {
                stripTrailingWhitespace();
                tokens.add(new Tok("{{", T.OPEN_EXPR));
                curly = 0;
                pos += 3;
                continue;
            }
            consumeWhile(Lexer::isJsSpace);
            if (!has(pos)) {
                break;
            }
            if (src.startsWith("-%}", pos)) {
                tokens.add(new Tok("%}", T.CLOSE_STMT));
                pos += 3;
                skipLeadingWhitespace();
                continue;
            }
            if (src.startsWith("-}}", pos)) {
                tokens.add(new Tok("}}", T.CLOSE_EXPR));
                pos += 3;
                skipLeadingWhitespace();
                continue;
            }
            char c = src.charAt(pos);
            if (c == '-' || c == '+') {
                Tok lastTok = last();
                T t = lastTok == null ? null : lastTok.type();
                if (t == T.TEXT || t == null) {
                    throw new JinjaException("Unexpected character: " + c);
                }
                if (!(t == T.IDENT || t == T.NUMBER || t == T.STRING || t == T.RPAREN || t == T.RBRACKET)) {
                    pos++;
                    String num = consumeWhile(Lexer::isDigit);
                    if (!num.isEmpty() && at(pos) == '.' && isDigit(at(pos + 1))) {
                        pos++;
                        num = num + "." + consumeWhile(Lexer::isDigit);
                    }
                    tokens.add(new Tok(c + num, num.isEmpty() ? T.UNARY_OP : T.NUMBER));
                    continue;
                }
            }
            for (String[] e : TABLE) {
                String seq = e[0];
                if (seq.equals("}}") && curly > 0) {
                    continue;
                }
                if (src.startsWith(seq, pos)) {
                    T type = T.valueOf(e[1]);
                    tokens.add(new Tok(seq, type));
                    if (type == T.OPEN_EXPR) {
                        curly = 0;
                    } else if (type == T.LBRACE) {
                        curly++;
                    } else if (type == T.RBRACE) {
                        curly--;
                    }
                    pos += seq.length();
                    continue main;
                }
            }
            if (c == '\'' || c == '"') {
                pos++;
                String s = consumeWhile(ch -> ch != c);
                tokens.add(new Tok(s, T.STRING));
                pos++;
                continue;
            }
            if (isDigit(c)) {
                String num = consumeWhile(Lexer::isDigit);
                Tok lastTok = last();
                if ((lastTok == null || lastTok.type() != T.DOT) && at(pos) == '.' && isDigit(at(pos + 1))) {
                    pos++;
                    num = num + "." + consumeWhile(Lexer::isDigit);
                }
                tokens.add(new Tok(num, T.NUMBER));
                continue;
            }
            if (isWord(c)) {
                tokens.add(new Tok(consumeWhile(Lexer::isWord), T.IDENT));
                continue;
            }
            throw new JinjaException("Unexpected character: " + c);
        }
    }
}

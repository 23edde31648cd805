package dev.rudder.tokenizer;

import java.util.regex.Pattern;

/**
 * Compiles the regexes of tokenizer.json ({@code Split} pre-tokenizers, {@code Replace} normalizers and decoders) with
 * {@code java.util.regex} so that they match what the Hugging Face library's Oniguruma (Ruby syntax) matches:
 * <ul>
 *   <li>{@code \w} is Alphabetic, marks, decimal digits, connector punctuation and ¹ ² ³ ¼ ½ ¾; Java's Unicode
 *       {@code \w} instead holds the joiners U+200C/U+200D (so "a U+200D b" would stay one word) and not ²³¹¼½¾.</li>
 *   <li>{@code \b} and {@code \B} are boundaries of those word chars ({@code \b} in a class is a backspace).</li>
 *   <li>{@code \h} is a hex digit (Java: horizontal whitespace).</li>
 *   <li>{@code ^} and {@code $} are line anchors and only {@code \n} ends a line, also for {@code .}
 *       (Java: MULTILINE and UNIX_LINES).</li>
 * </ul>
 * The built-in {@code Whitespace} pre-tokenizer does not go through here: the library runs it with Rust's regex
 * crate, whose {@code \w} is Java's.
 */
final class Oniguruma {
    private Oniguruma() {
    }

    static final int FLAGS = Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNICODE_CASE | Pattern.MULTILINE
            | Pattern.UNIX_LINES;

    /** Oniguruma's word chars in a class ({@code [\w]}: the Unicode property). */
    private static final String WORD_IN_CLASS = "\\p{IsAlphabetic}\\p{M}\\p{Nd}\\p{Pc}";
    /** {@code \w} outside a class and in {@code \b}: its Latin-1 table also counts ¹ ² ³ ¼ ½ ¾. */
    private static final String WORD = WORD_IN_CLASS + "\\u00B2\\u00B3\\u00B9\\u00BC-\\u00BE";
    private static final String HEX = "0-9a-fA-F";
    private static final String BOUNDARY = "(?:(?<=[" + WORD + "])(?![" + WORD + "])|(?<![" + WORD + "])(?=[" + WORD + "]))";
    private static final String NON_BOUNDARY = "(?:(?<=[" + WORD + "])(?=[" + WORD + "])|(?<![" + WORD + "])(?![" + WORD + "]))";

    static Pattern compile(String regex) {
        return Pattern.compile(toJava(regex), FLAGS);
    }

    /** The Java spelling of an Oniguruma regex: {@code \w \W \h \H} as classes, {@code \b \B} as lookarounds. */
    static String toJava(String regex) {
        if (regex.indexOf('\\') < 0) {
            return regex;
        }
        StringBuilder out = new StringBuilder(regex.length() + 32);
        int depth = 0;  // character-class nesting
        int n = regex.length();
        for (int i = 0; i < n; i++) {
            char c = regex.charAt(i);
            if (c == '\\' && i + 1 < n) {
                char e = regex.charAt(++i);
                String members = e == 'w' || e == 'W' ? (depth > 0 ? WORD_IN_CLASS : WORD)
                        : e == 'h' || e == 'H' ? HEX : null;
                if ((e == 'b' || e == 'B') && depth == 0) {
                    out.append(e == 'b' ? BOUNDARY : NON_BOUNDARY);
                } else if (e == 'b') {
                    out.append("\\x08");
                } else if (members == null) {
                    out.append(c).append(e);
                } else if (Character.isLowerCase(e)) {
                    out.append(depth > 0 ? members : "[" + members + "]");
                } else {
                    out.append("[^").append(members).append(']');
                }
                continue;
            }
            if (c == '[') {
                depth++;
            } else if (c == ']' && depth > 0) {
                depth--;
            }
            out.append(c);
        }
        return out.toString();
    }
}

package dev.rudder.tokenizer;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the non-overlapping matches of a pre-tokenizer pattern, left to right, as (start, end) char index pairs.
 * The regular expressions that the known tokenizer families use (GPT-2, Llama-3, Qwen2) are matched by hand-written
 * code with exactly the semantics of Oniguruma (Unicode {@code \s}, {@code \p{L}}, {@code \p{N}}, case-insensitive
 * contractions); any other regex is compiled with {@code java.util.regex} in Unicode mode.
 */
abstract class SplitPattern {

    /** Appends start,end pairs of the matches in {@code s}. */
    abstract void find(String s, IntList out);

    static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
    static final String LLAMA3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    static final String QWEN2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    static SplitPattern regex(String regex) {
        return regex(regex, "pre-tokenizer pattern '" + regex + "'");
    }

    /** {@code what} names the pattern and its place in tokenizer.json for errors. */
    static SplitPattern regex(String regex, String what) {
        if (regex.equals(GPT2)) {
            return new Gpt2();
        }
        if (regex.equals(LLAMA3)) {
            return new Llama3(3);
        }
        if (regex.equals(QWEN2)) {
            return new Llama3(1);
        }
        return new JavaRegex(Oniguruma.compile(regex), what);
    }

    static SplitPattern literal(String literal) {
        return new Literal(literal);
    }

    /**
     * A {@code java.util.regex} pattern: a tokenizer.json regex in its Oniguruma reading ({@link Oniguruma}), or a
     * Java regex in Unicode mode for the built-in pre-tokenizers ({@code \s} is White_Space in both).
     */
    static final class JavaRegex extends SplitPattern {
        final Pattern pattern;
        final String what;   // the pattern and where it was configured, for errors

        JavaRegex(String regex) {
            this(Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS | Pattern.UNICODE_CASE),
                    "pre-tokenizer pattern '" + regex + "'");
        }

        JavaRegex(Pattern pattern, String what) {
            this.pattern = pattern;
            this.what = what;
        }

        @Override
        void find(String s, IntList out) {
            int before = out.size;
            IntList found = DeepRegex.run(() -> {
                out.size = before;   // a retry starts from what the caller had
                Matcher m = pattern.matcher(DeepRegex.bounded(s, what));
                int lastEnd = -1;
                while (m.find()) {
                    int st = m.start();
                    int en = m.end();
                    // an empty match splits the text there, as in the library, unless it sits where the previous
                    // match ended (Oniguruma's iterator skips those) or inside a surrogate pair (Java steps by char)
                    if (st == en && (st == lastEnd || (st > 0 && st < s.length()
                            && Character.isLowSurrogate(s.charAt(st)) && Character.isHighSurrogate(s.charAt(st - 1))))) {
                        continue;
                    }
                    out.add(st);
                    out.add(en);
                    lastEnd = en;
                }
                return out;
            }, s.length(), what);
            assert found == out;
        }
    }

    static final class Literal extends SplitPattern {
        final String lit;

        Literal(String lit) {
            this.lit = lit;
        }

        @Override
        void find(String s, IntList out) {
            if (lit.isEmpty()) {
                return;
            }
            int i = 0;
            while ((i = s.indexOf(lit, i)) >= 0) {
                out.add(i);
                out.add(i + lit.length());
                i += lit.length();
            }
        }
    }

    // --- hand-written matchers ------------------------------------------------------------------------------

    static int cpLen(int cp) {
        return cp >= 0x10000 ? 2 : 1;
    }

    /** End of the run of letters starting at i. */
    static int letters(String s, int i, int n) {
        while (i < n) {
            int cp = s.codePointAt(i);
            if (!Text.isLetter(cp)) {
                break;
            }
            i += cpLen(cp);
        }
        return i;
    }

    static int numbers(String s, int i, int n, int max) {
        int count = 0;
        while (i < n && count < max) {
            int cp = s.codePointAt(i);
            if (!Text.isNumber(cp)) {
                break;
            }
            i += cpLen(cp);
            count++;
        }
        return i;
    }

    static boolean isOther(int cp) {
        return !Text.isWhitespace(cp) && !Text.isLetter(cp) && !Text.isNumber(cp);
    }

    static int others(String s, int i, int n) {
        while (i < n) {
            int cp = s.codePointAt(i);
            if (!isOther(cp)) {
                break;
            }
            i += cpLen(cp);
        }
        return i;
    }

    static int whitespaceRun(String s, int i, int n) {
        while (i < n) {
            int cp = s.codePointAt(i);
            if (!Text.isWhitespace(cp)) {
                break;
            }
            i += cpLen(cp);
        }
        return i;
    }

    /** {@code \s+(?!\S)|\s+} at i (s[i] is whitespace): whitespace is always one char unit in UTF-16. */
    static int trailingWhitespace(String s, int i, int n) {
        int k = whitespaceRun(s, i, n);
        if (k == n || k - i == 1) {
            return k;
        }
        return k - 1;
    }

    /** Case-sensitive or -insensitive contractions {@code 's|'t|'re|'ve|'m|'ll|'d} at i (s[i] == '\''). */
    static int contraction(String s, int i, int n, boolean ignoreCase) {
        if (i + 1 >= n) {
            return -1;
        }
        char d = s.charAt(i + 1);
        if (ignoreCase) {
            d = fold(d);
        }
        if (d == 's' || d == 't' || d == 'm' || d == 'd') {
            return i + 2;
        }
        if (i + 2 < n) {
            char e = s.charAt(i + 2);
            if (ignoreCase) {
                e = fold(e);
            }
            if ((d == 'r' && e == 'e') || (d == 'v' && e == 'e') || (d == 'l' && e == 'l')) {
                return i + 3;
            }
        }
        return -1;
    }

    /** Simple case folding for the letters of the contractions (U+017F long s folds to s). */
    private static char fold(char c) {
        if (c >= 'A' && c <= 'Z') {
            return (char) (c + 32);
        }
        if (c == '\u017F') {
            return 's';
        }
        return c;
    }

    /** {@code 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+}. */
    static final class Gpt2 extends SplitPattern {
        @Override
        void find(String s, IntList out) {
            int n = s.length();
            int i = 0;
            while (i < n) {
                int end = matchAt(s, i, n);
                out.add(i);
                out.add(end);
                i = end;
            }
        }

        static int matchAt(String s, int i, int n) {
            char c = s.charAt(i);
            if (c == '\'') {
                int e = contraction(s, i, n, false);
                if (e > 0) {
                    return e;
                }
            }
            int j = c == ' ' ? i + 1 : i;
            if (j < n) {
                int cp = s.codePointAt(j);
                if (Text.isLetter(cp)) {
                    return letters(s, j, n);
                }
                if (Text.isNumber(cp)) {
                    return numbers(s, j, n, Integer.MAX_VALUE);
                }
                if (isOther(cp)) {
                    return others(s, j, n);
                }
            }
            // s[i] is whitespace here
            return trailingWhitespace(s, i, n);
        }
    }

    /**
     * {@code (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,k}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+}
     * with k = 3 (Llama-3) or 1 (Qwen2).
     */
    static final class Llama3 extends SplitPattern {
        final int maxDigits;

        Llama3(int maxDigits) {
            this.maxDigits = maxDigits;
        }

        @Override
        void find(String s, IntList out) {
            int n = s.length();
            int i = 0;
            while (i < n) {
                int end = matchAt(s, i, n);
                out.add(i);
                out.add(end);
                i = end;
            }
        }

        int matchAt(String s, int i, int n) {
            int c = s.codePointAt(i);
            int cl = cpLen(c);
            if (c == '\'') {
                int e = contraction(s, i, n, true);
                if (e > 0) {
                    return e;
                }
            }
            boolean letter = Text.isLetter(c);
            if (letter) {
                return letters(s, i + cl, n);
            }
            boolean number = Text.isNumber(c);
            if (!number && c != '\r' && c != '\n' && i + cl < n && Text.isLetter(s.codePointAt(i + cl))) {
                return letters(s, i + cl, n);
            }
            if (number) {
                return numbers(s, i, n, maxDigits);
            }
            int j = c == ' ' ? i + 1 : i;
            if (j < n && isOther(s.codePointAt(j))) {
                int e = others(s, j, n);
                while (e < n && (s.charAt(e) == '\r' || s.charAt(e) == '\n')) {
                    e++;
                }
                return e;
            }
            // c is whitespace
            int k = whitespaceRun(s, i, n);
            for (int m = k - 1; m >= i; m--) {
                char x = s.charAt(m);
                if (x == '\r' || x == '\n') {
                    return m + 1;
                }
            }
            if (k == n || k - i == 1) {
                return k;
            }
            return k - 1;
        }
    }
}

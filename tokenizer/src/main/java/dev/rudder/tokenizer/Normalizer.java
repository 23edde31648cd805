package dev.rudder.tokenizer;

import java.util.List;
import java.util.regex.Pattern;

/** tokenizer.json {@code normalizer}: applied to each piece of text between added tokens. */
interface Normalizer {
    String normalize(String s);

    record Sequence(List<Normalizer> normalizers) implements Normalizer {
        @Override
        public String normalize(String s) {
            for (Normalizer n : normalizers) {
                s = n.normalize(s);
            }
            return s;
        }
    }

    /** NFC, NFD, NFKC, NFKD with the Unicode 9.0 tables of the tokenizers library ({@link Unicode9Normalizer}). */
    record Unicode(java.text.Normalizer.Form form) implements Normalizer {
        @Override
        public String normalize(String s) {
            return Unicode9Normalizer.normalize(s, form);
        }
    }

    record Prepend(String prepend) implements Normalizer {
        @Override
        public String normalize(String s) {
            return s.isEmpty() ? s : prepend + s;
        }
    }

    record Replace(String literal, Pattern regex, String content) implements Normalizer {
        @Override
        public String normalize(String s) {
            if (literal != null) {
                return literal.isEmpty() ? s : s.replace(literal, content);
            }
            String what = "normalizer pattern '" + regex.pattern() + "'";
            return DeepRegex.run(() -> regex.matcher(DeepRegex.bounded(s, what))
                    .replaceAll(java.util.regex.Matcher.quoteReplacement(content)), s.length(), what);
        }
    }

    record Lowercase() implements Normalizer {
        @Override
        public String normalize(String s) {
            return s.toLowerCase(java.util.Locale.ROOT);
        }
    }

    record Strip(boolean left, boolean right) implements Normalizer {
        @Override
        public String normalize(String s) {
            int b = 0;
            int e = s.length();
            if (left) {
                while (b < e && Text.isWhitespace(s.charAt(b))) {
                    b++;
                }
            }
            if (right) {
                while (e > b && Text.isWhitespace(s.charAt(e - 1))) {
                    e--;
                }
            }
            return s.substring(b, e);
        }
    }
}

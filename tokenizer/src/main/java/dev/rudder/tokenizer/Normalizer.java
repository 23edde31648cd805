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

    /**
     * Lowercase as the library does it: Rust's {@code char::to_lowercase} on every char, so without the final-sigma
     * rule of {@link String#toLowerCase} (a word-final capital sigma becomes σ, not ς), with the one unconditional
     * two-char mapping (U+0130 to "i̇") and with the case pairs of Unicode 17, which Java 25 (Unicode 16) lacks.
     */
    record Lowercase() implements Normalizer {
        @Override
        public String normalize(String s) {
            StringBuilder out = new StringBuilder(s.length());
            for (int i = 0; i < s.length(); ) {
                int cp = s.codePointAt(i);
                i += Character.charCount(cp);
                if (cp == 0x130) {
                    out.append("i\u0307");
                } else {
                    out.appendCodePoint(toLowerCase(cp));
                }
            }
            return out.toString();
        }

        private static int toLowerCase(int cp) {
            if (cp >= 0x16EA0 && cp <= 0x16EB8) {   // Beria Erfe capitals (Unicode 17)
                return cp + 0x1B;
            }
            if (cp == 0xA7CE || cp == 0xA7D2 || cp == 0xA7D4) {   // Latin letters of Unicode 17
                return cp + 1;
            }
            return Character.toLowerCase(cp);
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

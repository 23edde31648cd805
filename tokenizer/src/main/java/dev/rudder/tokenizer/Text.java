package dev.rudder.tokenizer;

import java.nio.charset.StandardCharsets;

/** Character classes and UTF-8 helpers with the semantics of the Rust tokenizers library (Oniguruma, Rust std). */
final class Text {
    private Text() {
    }

    /** Oniguruma/Rust {@code \s}: the Unicode White_Space property. */
    static boolean isWhitespace(int cp) {
        if (cp <= 0x20) {
            return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D);
        }
        if (cp < 0x85) {
            return false;
        }
        return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A)
                || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
    }

    /** {@code \p{L}}. */
    static boolean isLetter(int cp) {
        if (cp < 0x80) {
            return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
        }
        return Character.isLetter(cp);
    }

    /** {@code \p{N}}, also Rust's {@code char::is_numeric}. */
    static boolean isNumber(int cp) {
        if (cp < 0x80) {
            return cp >= '0' && cp <= '9';
        }
        int t = Character.getType(cp);
        return t == Character.DECIMAL_DIGIT_NUMBER || t == Character.LETTER_NUMBER || t == Character.OTHER_NUMBER;
    }

    /**
     * Rust's {@code char::is_numeric} (the Digits pre-tokenizer) as the tokenizers library 0.23.2 was built: Unicode
     * 17, whose new numbers (Tolong Siki digits U+11DE0-U+11DE9, U+16FF4-U+16FF6) Java 25 (Unicode 16) does not know.
     * The regex {@code \p{N}} of the library (Oniguruma) is still {@link #isNumber}.
     */
    static boolean isNumeric(int cp) {
        return isNumber(cp) || (cp >= 0x11DE0 && cp <= 0x11DE9) || (cp >= 0x16FF4 && cp <= 0x16FF6);
    }

    /** Replaces unpaired surrogates by U+FFFD, as converting to a Rust string does. */
    static String sanitize(String s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            if (Character.isSurrogate(s.charAt(i))) {
                return sanitizeSlow(s);
            }
        }
        return s;
    }

    private static String sanitizeSlow(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                sb.append(c).append(s.charAt(++i));
            } else if (Character.isSurrogate(c)) {
                sb.append('\uFFFD');
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** Like Rust's {@code String::from_utf8_lossy}: each maximal invalid subpart becomes one U+FFFD. */
    static String decodeLossy(byte[] b, int off, int len) {
        StringBuilder sb = new StringBuilder(len);
        int i = off;
        int end = off + len;
        while (i < end) {
            int c = b[i] & 0xFF;
            if (c < 0x80) {
                sb.append((char) c);
                i++;
                continue;
            }
            int width = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
            if (width == 0) {
                sb.append('\uFFFD');
                i++;
                continue;
            }
            // number of bytes of a valid prefix of the sequence
            int good = 1;
            boolean complete = true;
            for (int k = 1; k < width; k++) {
                if (i + k >= end) {
                    complete = false;
                    break;
                }
                int d = b[i + k] & 0xFF;
                int lo = 0x80;
                int hi = 0xBF;
                if (k == 1) {
                    if (c == 0xE0) {
                        lo = 0xA0;
                    } else if (c == 0xED) {
                        hi = 0x9F;
                    } else if (c == 0xF0) {
                        lo = 0x90;
                    } else if (c == 0xF4) {
                        hi = 0x8F;
                    }
                }
                if (d < lo || d > hi) {
                    complete = false;
                    break;
                }
                good++;
            }
            if (!complete) {
                sb.append('\uFFFD');
                i += good;
                continue;
            }
            int cp;
            if (width == 2) {
                cp = ((c & 0x1F) << 6) | (b[i + 1] & 0x3F);
            } else if (width == 3) {
                cp = ((c & 0x0F) << 12) | ((b[i + 1] & 0x3F) << 6) | (b[i + 2] & 0x3F);
            } else {
                cp = ((c & 0x07) << 18) | ((b[i + 1] & 0x3F) << 12) | ((b[i + 2] & 0x3F) << 6) | (b[i + 3] & 0x3F);
            }
            sb.appendCodePoint(cp);
            i += width;
        }
        return sb.toString();
    }

    /** Strict UTF-8 decoding: null when {@code b} is not entirely valid UTF-8. */
    static String decodeStrict(byte[] b, int off, int len) {
        String s = decodeLossy(b, off, len);
        byte[] u = utf8(s);
        if (s.indexOf('\uFFFD') >= 0 && !java.util.Arrays.equals(u, 0, u.length, b, off, off + len)) {
            return null;
        }
        return s;
    }
}

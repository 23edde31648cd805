package dev.rudder.tokenizer;

import java.text.Normalizer.Form;
import java.util.Arrays;

/**
 * Unicode normalization as the Hugging Face {@code tokenizers} library does it: its normalizers use the Unicode 9.0
 * tables of the {@code unicode-normalization-alignments} crate, to which every later character is a plain starter
 * (combining class 0, no decomposition, no composition). {@link java.text.Normalizer} (Unicode 16 in Java 25) instead
 * reorders the marks that Unicode 10-16 added and composes their new pairs, e.g. U+11935 U+11930 to U+11938.
 * <p>
 * A starter that composes with nothing splits a string into parts that normalize independently, so the text is
 * normalized part by part around the characters of the tables below, which are kept as they are. The tables hold
 * the characters assigned after Unicode 9.0 that java.text.Normalizer does not treat as plain starters; the
 * differential harness (tokfuzz) derived them by normalizing probes around every code point with both libraries.
 */
final class Unicode9Normalizer {
    private Unicode9Normalizer() {
    }

    /** [start, end] pairs: marks with a combining class, and characters in canonical decompositions (NFC, NFD). */
    private static final int[] CANONICAL = {
            0x07FD, 0x07FD, 0x0897, 0x089F, 0x08CA, 0x08D3, 0x09FE, 0x09FE, 0x0C3C, 0x0C3C, 0x0D3B, 0x0D3C,
            0x0EBA, 0x0EBA, 0x1715, 0x1715, 0x1ABF, 0x1ACE, 0x1DF6, 0x1DFA, 0xA82C, 0xA82C, 0x105C9, 0x105C9,
            0x105D2, 0x105D2, 0x105DA, 0x105DA, 0x105E4, 0x105E4, 0x10D24, 0x10D27, 0x10D69, 0x10D6D, 0x10EAB, 0x10EAC,
            0x10EFD, 0x10EFF, 0x10F46, 0x10F50, 0x10F82, 0x10F85, 0x11070, 0x11070, 0x1133B, 0x1133B, 0x11382, 0x11385,
            0x1138B, 0x1138B, 0x1138E, 0x1138E, 0x11390, 0x11391, 0x113B8, 0x113B8, 0x113BB, 0x113BB, 0x113C2, 0x113C2,
            0x113C5, 0x113C5, 0x113C7, 0x113C9, 0x113CE, 0x113D0, 0x1145E, 0x1145E, 0x11839, 0x1183A, 0x11930, 0x11930,
            0x11935, 0x11935, 0x11938, 0x11938, 0x1193D, 0x1193E, 0x11943, 0x11943, 0x119E0, 0x119E0, 0x11A34, 0x11A34,
            0x11A47, 0x11A47, 0x11A99, 0x11A99, 0x11D42, 0x11D42, 0x11D44, 0x11D45, 0x11D97, 0x11D97, 0x11F41, 0x11F42,
            0x1611E, 0x16129, 0x1612F, 0x1612F, 0x16D63, 0x16D63, 0x16D67, 0x16D6A, 0x16FF0, 0x16FF1, 0x1E08F, 0x1E08F,
            0x1E130, 0x1E136, 0x1E2AE, 0x1E2AE, 0x1E2EC, 0x1E2EF, 0x1E4EC, 0x1E4EF, 0x1E5EE, 0x1E5EF};

    /** CANONICAL plus the characters with compatibility decompositions (NFKC, NFKD). */
    private static final int[] COMPATIBILITY = merge(CANONICAL, new int[] {
            0x32FF, 0x32FF, 0xA7F2, 0xA7F4, 0xAB69, 0xAB69, 0x10781, 0x10785, 0x10787, 0x107B0, 0x107B2, 0x107BA,
            0x1CCD6, 0x1CCF9, 0x1E030, 0x1E06D, 0x1F16C, 0x1F16C, 0x1FBF0, 0x1FBF9});

    /**
     * One bit per UTF-16 char: the BMP chars of each table and the high surrogates of its other code points, so that
     * the scan costs a load per char; [65536 / 64].
     */
    private static final long[] CANONICAL_CHARS = charBits(CANONICAL);
    private static final long[] COMPATIBILITY_CHARS = charBits(COMPATIBILITY);

    /** Lowest char of either table: most text (ASCII, Latin, Greek, Cyrillic) is below it. */
    private static final char FIRST = 0x07FD;

    static String normalize(String s, Form form) {
        boolean canonical = form == Form.NFC || form == Form.NFD;
        int[] kept = canonical ? CANONICAL : COMPATIBILITY;
        long[] bits = canonical ? CANONICAL_CHARS : COMPATIBILITY_CHARS;
        int n = s.length();
        int i = 0;
        while (i < n) {
            char c = s.charAt(i);
            if (c >= FIRST && (bits[c >>> 6] & (1L << c)) != 0 && isKept(s.codePointAt(i), kept)) {
                break;
            }
            i++;
        }
        if (i == n) {
            return java.text.Normalizer.normalize(s, form);
        }
        StringBuilder out = new StringBuilder(n + 8);
        int start = 0;
        while (i < n) {
            int cp = s.codePointAt(i);
            int len = Character.charCount(cp);
            if (isKept(cp, kept)) {
                out.append(java.text.Normalizer.normalize(s.substring(start, i), form));
                out.appendCodePoint(cp);
                start = i + len;
            }
            i += len;
        }
        return out.append(java.text.Normalizer.normalize(s.substring(start), form)).toString();
    }

    private static long[] charBits(int[] ranges) {
        long[] bits = new long[1024];
        for (int k = 0; k < ranges.length; k += 2) {
            for (int cp = ranges[k]; cp <= ranges[k + 1]; cp++) {
                char c = cp <= 0xFFFF ? (char) cp : Character.highSurrogate(cp);
                bits[c >>> 6] |= 1L << c;
            }
        }
        return bits;
    }

    private static boolean isKept(int cp, int[] ranges) {
        int lo = 0;
        int hi = ranges.length / 2 - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            if (cp < ranges[2 * mid]) {
                hi = mid - 1;
            } else if (cp > ranges[2 * mid + 1]) {
                lo = mid + 1;
            } else {
                return true;
            }
        }
        return false;
    }

    /** The union of two disjoint range tables, sorted by start. */
    private static int[] merge(int[] a, int[] b) {
        int[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        long[] pairs = new long[all.length / 2];
        for (int k = 0; k < pairs.length; k++) {
            pairs[k] = ((long) all[2 * k] << 32) | all[2 * k + 1];
        }
        Arrays.sort(pairs);
        for (int k = 0; k < pairs.length; k++) {
            all[2 * k] = (int) (pairs[k] >>> 32);
            all[2 * k + 1] = (int) pairs[k];
        }
        return all;
    }
}

package dev.rudder.tokenizer;

/** The GPT-2 byte-to-unicode table used by byte-level BPE. */
final class ByteLevel {
    private ByteLevel() {
    }

    /** byte value (0..255) to the printable char standing for it. */
    static final char[] BYTE_TO_CHAR = new char[256];
    /** char (below 0x200) to byte value, or -1. */
    static final int[] CHAR_TO_BYTE = new int[0x200];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        boolean[] direct = new boolean[256];
        for (int b = '!'; b <= '~'; b++) {
            direct[b] = true;
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            direct[b] = true;
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            direct[b] = true;
        }
        int n = 0;
        for (int b = 0; b < 256; b++) {
            char c = direct[b] ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    /** Maps the UTF-8 bytes of {@code s} (no unpaired surrogates) to byte-level chars. */
    static String encode(String s) {
        int n = s.length();
        StringBuilder sb = new StringBuilder(n + 8);
        for (int i = 0; i < n; i++) {
            int c = s.charAt(i);
            if (c < 0x80) {
                sb.append(BYTE_TO_CHAR[c]);
            } else if (c < 0x800) {
                sb.append(BYTE_TO_CHAR[0xC0 | (c >> 6)]).append(BYTE_TO_CHAR[0x80 | (c & 0x3F)]);
            } else if (Character.isHighSurrogate((char) c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint((char) c, s.charAt(++i));
                sb.append(BYTE_TO_CHAR[0xF0 | (cp >> 18)]).append(BYTE_TO_CHAR[0x80 | ((cp >> 12) & 0x3F)])
                        .append(BYTE_TO_CHAR[0x80 | ((cp >> 6) & 0x3F)]).append(BYTE_TO_CHAR[0x80 | (cp & 0x3F)]);
            } else {
                if (Character.isSurrogate((char) c)) {
                    c = 0xFFFD;
                }
                sb.append(BYTE_TO_CHAR[0xE0 | (c >> 12)]).append(BYTE_TO_CHAR[0x80 | ((c >> 6) & 0x3F)])
                        .append(BYTE_TO_CHAR[0x80 | (c & 0x3F)]);
            }
        }
        return sb.toString();
    }
}

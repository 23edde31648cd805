package dev.rudder.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** tokenizer.json {@code decoder}: a chain over token strings; the results are concatenated. */
interface Decoder {
    List<String> decodeChain(List<String> tokens);

    record Sequence(List<Decoder> decoders) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            for (Decoder d : decoders) {
                tokens = d.decodeChain(tokens);
            }
            return tokens;
        }
    }

    /** Byte-level: token chars back to bytes, then lossy UTF-8. */
    record ByteLevelDec() implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            for (String t : tokens) {
                boolean mapped = true;
                for (int i = 0; i < t.length(); i++) {
                    char c = t.charAt(i);
                    if (c >= ByteLevel.CHAR_TO_BYTE.length || ByteLevel.CHAR_TO_BYTE[c] < 0) {
                        mapped = false;
                        break;
                    }
                }
                if (mapped) {
                    for (int i = 0; i < t.length(); i++) {
                        bytes.write(ByteLevel.CHAR_TO_BYTE[t.charAt(i)]);
                    }
                } else {
                    bytes.writeBytes(Text.utf8(t));
                }
            }
            byte[] b = bytes.toByteArray();
            return List.of(Text.decodeLossy(b, 0, b.length));
        }
    }

    record Replace(String literal, Pattern regex, String content) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) {
                if (literal != null) {
                    out.add(literal.isEmpty() ? t : t.replace(literal, content));
                } else {
                    out.add(regex.matcher(t).replaceAll(java.util.regex.Matcher.quoteReplacement(content)));
                }
            }
            return out;
        }
    }

    /** {@code <0xNN>} tokens to bytes; an invalid UTF-8 run becomes one U+FFFD per byte. */
    record ByteFallback() implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            java.io.ByteArrayOutputStream pending = new java.io.ByteArrayOutputStream();
            for (String t : tokens) {
                int b = byteOf(t);
                if (b >= 0) {
                    pending.write(b);
                    continue;
                }
                flush(pending, out);
                out.add(t);
            }
            flush(pending, out);
            return out;
        }

        private static void flush(java.io.ByteArrayOutputStream pending, List<String> out) {
            if (pending.size() == 0) {
                return;
            }
            byte[] b = pending.toByteArray();
            String s = Text.decodeStrict(b, 0, b.length);
            if (s != null) {
                out.add(s);
            } else {
                for (int i = 0; i < b.length; i++) {
                    out.add("\uFFFD");
                }
            }
            pending.reset();
        }

        static int byteOf(String t) {
            if (t.length() != 6 || !t.startsWith("<0x") || t.charAt(5) != '>') {
                return -1;
            }
            int hi = Character.digit(t.charAt(3), 16);
            int lo = Character.digit(t.charAt(4), 16);
            if (hi < 0 || lo < 0) {
                return -1;
            }
            return hi * 16 + lo;
        }
    }

    record Fuse() implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            return List.of(String.join("", tokens));
        }
    }

    /** Removes up to {@code start} leading and {@code stop} trailing {@code content} chars of every token. */
    record Strip(char content, int start, int stop) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (String t : tokens) {
                int b = 0;
                while (b < start && b < t.length() && t.charAt(b) == content) {
                    b++;
                }
                int e = t.length();
                int k = 0;
                while (k < stop && e > b && t.charAt(e - 1) == content) {
                    e--;
                    k++;
                }
                out.add(t.substring(b, e));
            }
            return out;
        }
    }

    /** Metaspace: replacement char to space; on the first token (unless prepend_scheme never) it is removed. */
    record MetaspaceDec(char replacement, boolean prepend) implements Decoder {
        @Override
        public List<String> decodeChain(List<String> tokens) {
            List<String> out = new ArrayList<>(tokens.size());
            for (int i = 0; i < tokens.size(); i++) {
                String t = tokens.get(i);
                StringBuilder sb = new StringBuilder(t.length());
                for (int k = 0; k < t.length(); k++) {
                    char c = t.charAt(k);
                    if (c == replacement) {
                        if (!(i == 0 && prepend)) {
                            sb.append(' ');
                        }
                    } else {
                        sb.append(c);
                    }
                }
                out.add(sb.toString());
            }
            return out;
        }
    }
}

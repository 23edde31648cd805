package dev.rudder.tokenizer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The llama2.c tokenizer ({@code tokenizer.bin}, {@code tok512.bin}): a SentencePiece-style vocabulary with merge
 * scores. Encoding follows {@code run.c}: a dummy-prefix space, code points looked up whole or as byte tokens
 * ({@code byte + 3}), then greedy merges of the adjacent pair whose concatenation has the highest score.
 */
final class LlamaCModel {
    final String[] vocab;
    final byte[][] bytes;
    final float[] scores;
    private final Map<String, Integer> ids = new HashMap<>();

    private LlamaCModel(byte[][] bytes, float[] scores) {
        this.bytes = bytes;
        this.scores = scores;
        this.vocab = new String[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            vocab[i] = new String(bytes[i], StandardCharsets.UTF_8);
            ids.putIfAbsent(key(bytes[i]), i);
        }
    }

    private static String key(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    static LlamaCModel read(Path file) {
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read: " + e.getMessage(), e);
        }
        ByteBuffer buf = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        if (buf.remaining() < 4) {
            throw new TokenizerException(file + ": too short for a llama2.c tokenizer (max_token_length)");
        }
        int maxLen = buf.getInt();
        List<byte[]> toks = new ArrayList<>();
        List<Float> sc = new ArrayList<>();
        while (buf.remaining() > 0) {
            if (buf.remaining() < 8) {
                throw new TokenizerException(file + ": truncated entry " + toks.size() + " (score, length)");
            }
            float s = buf.getFloat();
            int len = buf.getInt();
            if (len < 0 || len > Math.max(maxLen, 64) * 4 || len > buf.remaining()) {
                throw new TokenizerException(file + ": entry " + toks.size() + ": bad token length " + len);
            }
            byte[] b = new byte[len];
            buf.get(b);
            toks.add(b);
            sc.add(s);
        }
        if (toks.size() < 259) {
            throw new TokenizerException(file + ": only " + toks.size() + " tokens; a llama2.c vocabulary has "
                    + "<unk>, <s>, </s> and 256 byte tokens at least");
        }
        float[] scores = new float[sc.size()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = sc.get(i);
        }
        return new LlamaCModel(toks.toArray(new byte[0][]), scores);
    }

    void encode(String text, IntList out) {
        if (text.isEmpty()) {
            return;
        }
        List<Integer> tokens = new ArrayList<>();
        Integer dummy = ids.get(" ");
        if (dummy != null) {
            tokens.add(dummy);
        }
        byte[] b = Text.utf8(text);
        int i = 0;
        while (i < b.length) {
            int c = b[i] & 0xFF;
            int len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
            len = Math.min(len, b.length - i);
            byte[] cp = java.util.Arrays.copyOfRange(b, i, i + len);
            Integer id = ids.get(key(cp));
            if (id != null) {
                tokens.add(id);
            } else {
                for (byte x : cp) {
                    tokens.add((x & 0xFF) + 3);
                }
            }
            i += len;
        }
        while (true) {
            float best = Float.NEGATIVE_INFINITY;
            int bestId = -1;
            int bestIdx = -1;
            for (int k = 0; k + 1 < tokens.size(); k++) {
                byte[] l = bytes[tokens.get(k)];
                byte[] r = bytes[tokens.get(k + 1)];
                byte[] m = new byte[l.length + r.length];
                System.arraycopy(l, 0, m, 0, l.length);
                System.arraycopy(r, 0, m, l.length, r.length);
                Integer id = ids.get(key(m));
                if (id != null && scores[id] > best) {
                    best = scores[id];
                    bestId = id;
                    bestIdx = k;
                }
            }
            if (bestIdx < 0) {
                break;
            }
            tokens.set(bestIdx, bestId);
            tokens.remove(bestIdx + 1);
        }
        for (int t : tokens) {
            out.add(t);
        }
    }

    String decode(int[] ids, boolean skipSpecial) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        int prev = -1;
        for (int id : ids) {
            if (id < 0 || id >= bytes.length) {
                continue;
            }
            if (id <= 2) {
                if (!skipSpecial) {
                    out.writeBytes(bytes[id]);
                }
                prev = id;
                continue;
            }
            byte[] piece = bytes[id];
            int b = Decoder.ByteFallback.byteOf(vocab[id]);
            if (b >= 0) {
                out.write(b);
            } else if ((prev == 1 || prev == -1) && piece.length > 0 && piece[0] == ' ') {
                out.write(piece, 1, piece.length - 1);
            } else {
                out.writeBytes(piece);
            }
            prev = id;
        }
        byte[] r = out.toByteArray();
        return Text.decodeLossy(r, 0, r.length);
    }
}

package dev.rudder.tokenizer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a {@link Tokenizer} from the {@code tokenizer.*} metadata of a GGUF file, passed as plain Java values (the
 * tokenizer module does not read GGUF itself: the caller hands over the metadata map, strings as {@link String},
 * integers as {@link Long}, floats as {@link Double}, arrays as {@link List}).
 *
 * <ul>
 *   <li>{@code tokenizer.ggml.model = gpt2}: byte-level BPE from {@code tokens} and {@code merges}; the
 *       pre-tokenizer regex chosen by {@code tokenizer.ggml.pre} ({@link #PRE_TOKENIZERS}) as in the
 *       {@code tokenizer.json} of the models that name it.</li>
 *   <li>{@code tokenizer.ggml.model = llama}: SentencePiece from {@code tokens}, {@code scores} and
 *       {@code token_type}: merges in the order of the merged piece's score (as Hugging Face's converter derives
 *       them), {@code <0xNN>} byte fallback, {@code ▁} for spaces with a leading one per {@code add_space_prefix}.</li>
 * </ul>
 * Token types 3 (control) and 4 (user-defined) become added tokens, matched in the text; control ones are special.
 * BOS/EOS ids, {@code add_bos_token}/{@code add_eos_token} and {@code tokenizer.chat_template} are honoured.
 */
public final class GgufTokenizer {
    /** {@code tokenizer.ggml.pre} values understood for {@code gpt2} vocabularies. */
    public static final List<String> PRE_TOKENIZERS = List.of("llama-bpe", "llama3", "qwen2", "smollm", "default", "gpt2");

    private static final int TYPE_NORMAL = 1;
    private static final int TYPE_UNKNOWN = 2;
    private static final int TYPE_CONTROL = 3;
    private static final int TYPE_USER_DEFINED = 4;
    private static final int TYPE_BYTE = 6;

    private GgufTokenizer() {
    }

    /** True when {@code metadata} holds a vocabulary ({@code tokenizer.ggml.model}). */
    public static boolean hasTokenizer(Map<String, Object> metadata) {
        return metadata.get("tokenizer.ggml.model") != null;
    }

    /**
     * The tokenizer the metadata describes; {@code source} (the file) is named in every error.
     *
     * @throws TokenizerException for a missing or malformed key, or an unsupported model or pre-tokenizer
     */
    public static Tokenizer fromMetadata(Map<String, Object> metadata, String source) {
        Fields f = new Fields(metadata, source);
        String model = f.string("tokenizer.ggml.model");
        List<String> tokens = f.strings("tokenizer.ggml.tokens");
        int n = tokens.size();
        int[] types = f.ints("tokenizer.ggml.token_type", n);
        String[] idToToken = tokens.toArray(new String[0]);
        Map<String, Integer> vocab = new HashMap<>(n * 2);
        for (int i = n - 1; i >= 0; i--) {
            vocab.put(idToToken[i], i);   // the first id wins when a string repeats
        }
        List<AddedVocabulary.AddedToken> added = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int t = types == null ? TYPE_NORMAL : types[i];
            if (t == TYPE_CONTROL || t == TYPE_USER_DEFINED || (t == TYPE_UNKNOWN && model.equals("llama"))) {
                added.add(new AddedVocabulary.AddedToken(i, idToToken[i], t != TYPE_USER_DEFINED, false, false, false,
                        false));
            }
        }
        Normalizer normalizer;
        PreTokenizer pre;
        BpeModel bpe;
        Decoder decoder;
        boolean addBosDefault;
        switch (model) {
            case "gpt2" -> {
                String preName = f.optionalString("tokenizer.ggml.pre", "default");
                BpeModel.LongLongMap merges = bpeMerges(f.strings("tokenizer.ggml.merges"), vocab, f);
                boolean llama3 = preName.equals("llama-bpe") || preName.equals("llama3");
                bpe = new BpeModel(vocab, idToToken, merges, null, false, false, llama3, "", "");
                normalizer = preName.equals("qwen2") ? new Normalizer.Unicode(java.text.Normalizer.Form.NFC) : null;
                pre = switch (preName) {
                    case "llama-bpe", "llama3" -> splitThenBytes(SplitPattern.LLAMA3);
                    case "qwen2" -> splitThenBytes(SplitPattern.QWEN2);
                    case "smollm" -> new PreTokenizer.Sequence(List.of(new PreTokenizer.Digits(true),
                            new PreTokenizer.ByteLevelPre(false, true)));
                    case "default", "gpt2" -> new PreTokenizer.ByteLevelPre(false, true);
                    default -> throw new TokenizerException(source + ": tokenizer.ggml.pre = " + preName
                            + " is not supported (supported: " + String.join(", ", PRE_TOKENIZERS) + ")");
                };
                decoder = new Decoder.ByteLevelDec();
                addBosDefault = false;
            }
            case "llama" -> {
                double[] scores = f.doubles("tokenizer.ggml.scores", n);
                Integer unk = f.optionalId("tokenizer.ggml.unknown_token_id", n);
                if (unk == null) {
                    for (int i = 0; i < n && unk == null; i++) {
                        if (types != null && types[i] == TYPE_UNKNOWN) {
                            unk = i;
                        }
                    }
                }
                bpe = new BpeModel(vocab, idToToken, sentencePieceMerges(idToToken, types, scores, vocab), unk, true,
                        true, false, "", "");
                boolean prefix = f.optionalBool("tokenizer.ggml.add_space_prefix", true);
                List<Normalizer> norm = new ArrayList<>();
                if (prefix) {
                    norm.add(new Normalizer.Prepend("\u2581"));
                }
                norm.add(new Normalizer.Replace(" ", null, "\u2581"));
                normalizer = new Normalizer.Sequence(norm);
                pre = null;
                List<Decoder> dec = new ArrayList<>(List.of(new Decoder.Replace("\u2581", null, " "),
                        new Decoder.ByteFallback(), new Decoder.Fuse()));
                if (prefix) {
                    dec.add(new Decoder.Strip(' ', 1, 0));
                }
                decoder = new Decoder.Sequence(dec);
                addBosDefault = true;
            }
            default -> throw new TokenizerException(source + ": tokenizer.ggml.model = " + model
                    + " is not supported (supported: gpt2, llama)");
        }
        Integer bos = f.optionalId("tokenizer.ggml.bos_token_id", n);
        Integer eos = f.optionalId("tokenizer.ggml.eos_token_id", n);
        Integer unkId = f.optionalId("tokenizer.ggml.unknown_token_id", n);
        Integer pad = f.optionalId("tokenizer.ggml.padding_token_id", n);
        boolean addBos = f.optionalBool("tokenizer.ggml.add_bos_token", addBosDefault) && bos != null;
        boolean addEos = f.optionalBool("tokenizer.ggml.add_eos_token", false) && eos != null;
        PostProcessor post = new PostProcessor(addBos ? new int[] {bos} : new int[0], addEos ? new int[] {eos} : new int[0]);
        Map<String, String> special = new LinkedHashMap<>();
        if (bos != null) {
            special.put("bos_token", idToToken[bos]);
        }
        if (eos != null) {
            special.put("eos_token", idToToken[eos]);
        }
        if (unkId != null) {
            special.put("unk_token", idToToken[unkId]);
        }
        if (pad != null) {
            special.put("pad_token", idToToken[pad]);
        }
        String template = f.optionalString("tokenizer.chat_template", null);
        ChatTemplate ct = template == null ? null : ChatTemplate.of(template, "chat template in " + source + " (tokenizer.chat_template)");
        Map<String, Integer> tokenToId = new HashMap<>(vocab);
        return new Tokenizer(normalizer, pre, bpe, null, post, decoder, new AddedVocabulary(added, normalizer),
                idToToken, tokenToId, Collections.unmodifiableMap(special), ct);
    }

    private static PreTokenizer splitThenBytes(String regex) {
        return new PreTokenizer.Sequence(List.of(
                new PreTokenizer.Split(SplitPattern.regex(regex), false, PreTokenizer.Behavior.ISOLATED),
                new PreTokenizer.ByteLevelPre(false, false)));
    }

    private static BpeModel.LongLongMap bpeMerges(List<String> merges, Map<String, Integer> vocab, Fields f) {
        BpeModel.LongLongMap map = new BpeModel.LongLongMap(merges.size());
        for (int rank = 0; rank < merges.size(); rank++) {
            String m = merges.get(rank);
            int sp = m.indexOf(' ');
            if (sp <= 0 || sp == m.length() - 1 || m.indexOf(' ', sp + 1) >= 0) {
                throw f.bad("tokenizer.ggml.merges[" + rank + "]", "expected \"left right\", got \"" + m + "\"");
            }
            Integer a = vocab.get(m.substring(0, sp));
            Integer b = vocab.get(m.substring(sp + 1));
            Integer merged = vocab.get(new StringBuilder(m.length() - 1).append(m, 0, sp).append(m, sp + 1, m.length())
                    .toString());
            if (a == null || b == null || merged == null) {
                throw f.bad("tokenizer.ggml.merges[" + rank + "]", "\"" + m
                        + "\" names a token that is not in tokenizer.ggml.tokens");
            }
            map.put(BpeModel.key(a, b), ((long) rank << 32) | merged);
        }
        return map;
    }

    /**
     * SentencePiece merges as Hugging Face's {@code SentencePieceExtractor} derives them: every split of a piece into
     * two pieces of the vocabulary is a merge, ranked by the merged piece's score (highest first; ties in id order,
     * then by the ids of the two halves). Control, unknown and byte tokens are never merge results.
     */
    static BpeModel.LongLongMap sentencePieceMerges(String[] tokens, int[] types, double[] scores,
                                                    Map<String, Integer> vocab) {
        List<long[]> merges = new ArrayList<>(); // {left, right, merged}
        for (int id = 0; id < tokens.length; id++) {
            int t = types == null ? TYPE_NORMAL : types[id];
            if (t == TYPE_CONTROL || t == TYPE_UNKNOWN || t == TYPE_BYTE) {
                continue;
            }
            String piece = tokens[id];
            List<long[]> local = new ArrayList<>();
            for (int i = piece.offsetByCodePoints(0, Math.min(1, piece.codePointCount(0, piece.length())));
                 i < piece.length(); i = piece.offsetByCodePoints(i, 1)) {
                Integer l = vocab.get(piece.substring(0, i));
                Integer r = vocab.get(piece.substring(i));
                if (l != null && r != null) {
                    local.add(new long[] {l, r, id});
                }
            }
            local.sort(Comparator.<long[]>comparingLong(a -> a[0]).thenComparingLong(a -> a[1]));
            merges.addAll(local);
        }
        // stable sort by score, highest first
        merges.sort(Comparator.comparingDouble(a -> -scores[(int) a[2]]));
        BpeModel.LongLongMap map = new BpeModel.LongLongMap(merges.size());
        for (int rank = 0; rank < merges.size(); rank++) {
            long[] m = merges.get(rank);
            long key = BpeModel.key((int) m[0], (int) m[1]);
            if (map.get(key) == -1L) {
                map.put(key, ((long) rank << 32) | m[2]);
            }
        }
        return map;
    }

    /** Typed access to the metadata map; errors name the source and the key. */
    private record Fields(Map<String, Object> md, String source) {
        TokenizerException bad(String key, String msg) {
            return new TokenizerException(source + ": " + key + ": " + msg);
        }

        String string(String key) {
            Object v = md.get(key);
            if (v == null) {
                throw new TokenizerException(source + ": no " + key + " in the GGUF metadata");
            }
            if (!(v instanceof String s)) {
                throw bad(key, "expected a string, got " + v.getClass().getSimpleName());
            }
            return s;
        }

        String optionalString(String key, String dflt) {
            return md.get(key) == null ? dflt : string(key);
        }

        boolean optionalBool(String key, boolean dflt) {
            Object v = md.get(key);
            if (v == null) {
                return dflt;
            }
            if (!(v instanceof Boolean b)) {
                throw bad(key, "expected true or false, got " + v);
            }
            return b;
        }

        Integer optionalId(String key, int n) {
            Object v = md.get(key);
            if (v == null) {
                return null;
            }
            if (!(v instanceof Long l) || l < 0 || l >= n) {
                throw bad(key, "expected a token id below " + n + ", got " + v);
            }
            return (int) (long) l;
        }

        List<?> list(String key) {
            Object v = md.get(key);
            if (v == null) {
                throw new TokenizerException(source + ": no " + key + " in the GGUF metadata");
            }
            if (!(v instanceof List<?> l)) {
                throw bad(key, "expected an array, got " + v.getClass().getSimpleName());
            }
            return l;
        }

        List<String> strings(String key) {
            List<?> l = list(key);
            for (int i = 0; i < l.size(); i++) {
                if (!(l.get(i) instanceof String)) {
                    throw bad(key + "[" + i + "]", "expected a string");
                }
            }
            @SuppressWarnings("unchecked")
            List<String> s = (List<String>) l;
            return s;
        }

        /** An optional int array of length {@code n} (null when absent). */
        int[] ints(String key, int n) {
            if (md.get(key) == null) {
                return null;
            }
            List<?> l = list(key);
            if (l.size() != n) {
                throw bad(key, l.size() + " entries, but tokenizer.ggml.tokens has " + n);
            }
            int[] out = new int[n];
            for (int i = 0; i < n; i++) {
                if (!(l.get(i) instanceof Long v)) {
                    throw bad(key + "[" + i + "]", "expected an integer");
                }
                out[i] = (int) (long) v;
            }
            return out;
        }

        double[] doubles(String key, int n) {
            List<?> l = list(key);
            if (l.size() != n) {
                throw bad(key, l.size() + " entries, but tokenizer.ggml.tokens has " + n);
            }
            double[] out = new double[n];
            for (int i = 0; i < n; i++) {
                if (!(l.get(i) instanceof Number v)) {
                    throw bad(key + "[" + i + "]", "expected a number");
                }
                out[i] = v.doubleValue();
            }
            return out;
        }
    }
}

package dev.rudder.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code tokenizer.*} GGUF metadata of a model folder's {@code tokenizer.json}, as llama.cpp's converter writes
 * it, so that {@link GgufTokenizer} (and llama.cpp) read back the same tokenizer. Values are plain Java: {@link String},
 * {@link Integer} (a token id, written UINT32), {@link Boolean}, {@code List<String>}, {@code int[]} (INT32 array),
 * {@code float[]} (FLOAT32 array).
 *
 * <p>Byte-level BPE vocabularies become {@code gpt2} with the {@code tokenizer.ggml.pre} name of their pre-tokenizer
 * ({@code llama-bpe}, {@code qwen2}, {@code smollm}, {@code gpt2}); SentencePiece-style BPE ({@code ▁}, byte fallback)
 * becomes {@code llama} with scores ranking the merges. Anything else is a {@link TokenizerException} naming the file.
 */
public final class GgufTokenizerExport {
    private static final ObjectMapper JSON = new ObjectMapper();

    private GgufTokenizerExport() {
    }

    public static Map<String, Object> fromModelDir(Path dir) {
        Path file = dir.resolve("tokenizer.json");
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read: " + e.getMessage(), e);
        }
        Tokenizer tok = Tokenizer.fromModelDir(dir);
        JsonNode model = root.path("model");
        if (!"BPE".equals(model.path("type").asText("BPE")) || !model.path("vocab").isObject()) {
            throw new TokenizerException(file + ": only BPE tokenizers can be written to GGUF");
        }
        Map<String, Integer> vocab = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = model.get("vocab").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            vocab.put(e.getKey(), e.getValue().asInt());
        }
        int n = tok.vocabSize();
        List<String> tokens = new ArrayList<>(n);
        int[] types = new int[n];
        for (int i = 0; i < n; i++) {
            String t;
            try {
                t = tok.token(i);
            } catch (TokenizerException missing) {
                t = "[PAD" + i + "]";   // llama.cpp's filler for ids the vocabulary skips
            }
            tokens.add(t);
            types[i] = 1;
        }
        boolean spm = model.path("byte_fallback").asBoolean(false);
        for (JsonNode a : root.path("added_tokens")) {
            types[a.get("id").asInt()] = a.path("special").asBoolean(false) ? 3 : 4;
        }
        Map<String, Object> md = new LinkedHashMap<>();
        List<String> merges = mergeStrings(model.get("merges"), file);
        if (spm) {
            md.put("tokenizer.ggml.model", "llama");
            float[] scores = new float[n];
            Arrays.fill(scores, -1e9f);
            for (int rank = 0; rank < merges.size(); rank++) {
                Integer id = vocab.get(merges.get(rank).replace(" ", ""));
                if (id != null && scores[id] == -1e9f) {
                    scores[id] = -rank;
                }
            }
            String unk = model.path("unk_token").asText(null);
            for (int i = 0; i < n; i++) {
                String t = tokens.get(i);
                if (t.equals(unk)) {
                    types[i] = 2;
                } else if (types[i] == 1 && t.matches("<0x[0-9A-F]{2}>")) {
                    types[i] = 6;
                } else if (types[i] == 1 && t.codePointCount(0, t.length()) == 1) {
                    scores[i] = 0f;
                }
            }
            md.put("tokenizer.ggml.tokens", tokens);
            md.put("tokenizer.ggml.scores", scores);
            md.put("tokenizer.ggml.token_type", types);
            md.put("tokenizer.ggml.add_space_prefix", true);
        } else {
            md.put("tokenizer.ggml.model", "gpt2");
            md.put("tokenizer.ggml.pre", preName(root, file));
            md.put("tokenizer.ggml.tokens", tokens);
            md.put("tokenizer.ggml.token_type", types);
            md.put("tokenizer.ggml.merges", merges);
        }
        putId(md, "tokenizer.ggml.bos_token_id", tok, "bos_token");
        putId(md, "tokenizer.ggml.eos_token_id", tok, "eos_token");
        putId(md, "tokenizer.ggml.unknown_token_id", tok, "unk_token");
        putId(md, "tokenizer.ggml.padding_token_id", tok, "pad_token");
        int[] withSpecials = tok.encode("", true);
        Integer bos = (Integer) md.get("tokenizer.ggml.bos_token_id");
        Integer eos = (Integer) md.get("tokenizer.ggml.eos_token_id");
        md.put("tokenizer.ggml.add_bos_token", bos != null && withSpecials.length > 0 && withSpecials[0] == bos);
        md.put("tokenizer.ggml.add_eos_token", eos != null && withSpecials.length > 0
                && withSpecials[withSpecials.length - 1] == eos);
        tok.chatTemplate().ifPresent(t -> md.put("tokenizer.chat_template", t.source()));
        return md;
    }

    private static void putId(Map<String, Object> md, String key, Tokenizer tok, String name) {
        String s = tok.specialTokens().get(name);
        if (s != null) {
            tok.tokenId(s).ifPresent(id -> md.put(key, id));
        }
    }

    private static List<String> mergeStrings(JsonNode merges, Path file) {
        List<String> out = new ArrayList<>();
        if (merges == null || merges.isNull()) {
            return out;
        }
        for (JsonNode m : merges) {
            if (m.isTextual()) {
                out.add(m.asText());
            } else if (m.isArray() && m.size() == 2) {
                out.add(m.get(0).asText() + " " + m.get(1).asText());
            } else {
                throw new TokenizerException(file + ": model.merges: unexpected entry " + m);
            }
        }
        return out;
    }

    /** The llama.cpp pre-tokenizer name of a byte-level BPE {@code pre_tokenizer}. */
    private static String preName(JsonNode root, Path file) {
        JsonNode pre = root.path("pre_tokenizer");
        String json = pre.toString();
        if (json.contains(jsonString(SplitPattern.LLAMA3))) {
            return "llama-bpe";
        }
        if (json.contains(jsonString(SplitPattern.QWEN2))) {
            return "qwen2";
        }
        if ("Sequence".equals(pre.path("type").asText()) && pre.path("pretokenizers").size() == 2
                && "Digits".equals(pre.path("pretokenizers").get(0).path("type").asText())
                && pre.path("pretokenizers").get(0).path("individual_digits").asBoolean(false)
                && "ByteLevel".equals(pre.path("pretokenizers").get(1).path("type").asText())
                && pre.path("pretokenizers").get(1).path("use_regex").asBoolean(true)) {
            return "smollm";
        }
        if ("ByteLevel".equals(pre.path("type").asText()) && pre.path("use_regex").asBoolean(true)
                && !pre.path("add_prefix_space").asBoolean(false)) {
            return "gpt2";
        }
        throw new TokenizerException(file + ": pre_tokenizer " + (json.length() > 200 ? json.substring(0, 200) + "..." : json)
                + " has no GGUF pre-tokenizer name (supported: " + String.join(", ", GgufTokenizer.PRE_TOKENIZERS) + ")");
    }

    private static String jsonString(String s) {
        try {
            return JSON.writeValueAsString(s);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}

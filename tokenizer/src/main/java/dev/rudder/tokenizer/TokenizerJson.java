package dev.rudder.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads tokenizers from files: a Hugging Face {@code tokenizer.json} (BPE model, normalizer,
 * pre-tokenizer, post-processor, decoder, added tokens) with the special tokens and chat template
 * of {@code tokenizer_config.json} / {@code chat_template.jinja} / {@code chat_template.json}, or a
 * llama2.c {@code tokenizer.bin}. Every error is a {@link TokenizerException} naming the file and
 * the field. {@link Tokenizer} is the API; this class only builds it.
 */
final class TokenizerJson {
    // field names are not canonicalised: a vocabulary is one object with 32k-256k distinct keys, which the
    // symbol table would hash, store and intern for nothing (most of a cold tokenizer.json parse)
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES).build());

    private TokenizerJson() {
    }

    /**
     * Loads the tokenizer of a model folder: {@code tokenizer.json} plus, when present, {@code tokenizer_config.json}
     * (special tokens, chat template) and {@code chat_template.jinja} / {@code chat_template.json}. A folder with only
     * a llama2.c {@code tokenizer.bin} or {@code tok*.bin} file is read as that format. A Hugging Face cache folder
     * ({@code models--org--name}) resolves to its snapshot.
     */
    static Tokenizer fromModelDir(Path dir) {
        dir = resolveCacheDir(dir);
        if (!Files.isDirectory(dir)) {
            throw new TokenizerException(dir + ": not a directory");
        }
        Path tj = dir.resolve("tokenizer.json");
        Map<String, String> special = new LinkedHashMap<>();
        String template = null;
        String templateOrigin = null;
        Path config = dir.resolve("tokenizer_config.json");
        if (Files.isRegularFile(config)) {
            JsonNode cfg = readJson(config);
            for (String key : List.of("bos_token", "eos_token", "unk_token", "pad_token")) {
                JsonNode v = cfg.get(key);
                if (v == null || v.isNull()) {
                    continue;
                }
                if (v.isTextual()) {
                    special.put(key, v.asText());
                } else if (v.isObject() && v.get("content") != null && v.get("content").isTextual()) {
                    special.put(key, v.get("content").asText());
                } else {
                    throw new TokenizerException(config + ": field " + key + ": expected a string or {\"content\": ...}");
                }
            }
            template = templateFrom(cfg.get("chat_template"), config, "chat_template");
            templateOrigin = "chat template in " + config;
        }
        Path jinja = dir.resolve("chat_template.jinja");
        Path ctJson = dir.resolve("chat_template.json");
        if (Files.isRegularFile(jinja)) {
            try {
                template = Files.readString(jinja);
                templateOrigin = "chat template " + jinja;
            } catch (IOException e) {
                throw new TokenizerException(jinja + ": cannot read: " + e.getMessage(), e);
            }
        } else if (Files.isRegularFile(ctJson)) {
            String t = templateFrom(readJson(ctJson).get("chat_template"), ctJson, "chat_template");
            if (t != null) {
                template = t;
                templateOrigin = "chat template in " + ctJson;
            }
        }
        ChatTemplate ct = template == null ? null : ChatTemplate.of(template, templateOrigin);
        if (Files.isRegularFile(tj)) {
            return parse(readJson(tj), tj, special, ct);
        }
        Path bin = findLlamaCTokenizer(dir);
        if (bin != null) {
            return fromLlamaC(bin, special, ct);
        }
        throw new TokenizerException(dir + ": no tokenizer.json (nor a llama2.c tokenizer.bin) in this folder");
    }

    /** Loads a {@code tokenizer.json} file alone (no special-token names, no chat template). */
    static Tokenizer fromFile(Path tokenizerJson) {
        if (tokenizerJson.getFileName() != null && tokenizerJson.getFileName().toString().endsWith(".bin")) {
            return fromLlamaC(tokenizerJson, new LinkedHashMap<>(), null);
        }
        return parse(readJson(tokenizerJson), tokenizerJson, new LinkedHashMap<>(), null);
    }

    private static Path resolveCacheDir(Path dir) {
        Path snapshots = dir.resolve("snapshots");
        if (!Files.isRegularFile(dir.resolve("tokenizer.json")) && Files.isDirectory(snapshots)) {
            try {
                Path ref = dir.resolve("refs").resolve("main");
                if (Files.isRegularFile(ref)) {
                    Path snap = snapshots.resolve(Files.readString(ref).trim());
                    if (Files.isDirectory(snap)) {
                        return snap;
                    }
                }
                try (var s = Files.list(snapshots)) {
                    List<Path> all = s.filter(Files::isDirectory).sorted().toList();
                    if (!all.isEmpty()) {
                        return all.get(all.size() - 1);
                    }
                }
            } catch (IOException e) {
                throw new TokenizerException(dir + ": cannot read the Hugging Face cache folder: " + e.getMessage(), e);
            }
        }
        return dir;
    }

    private static Path findLlamaCTokenizer(Path dir) {
        Path p = dir.resolve("tokenizer.bin");
        if (Files.isRegularFile(p)) {
            return p;
        }
        try (var s = Files.list(dir)) {
            return s.filter(f -> {
                String n = f.getFileName().toString();
                return n.startsWith("tok") && n.endsWith(".bin") && Files.isRegularFile(f);
            }).sorted().findFirst().orElse(null);
        } catch (IOException e) {
            return null;
        }
    }

    private static String templateFrom(JsonNode node, Path file, String field) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isArray()) {
            String first = null;
            for (JsonNode e : node) {
                JsonNode name = e.get("name");
                JsonNode t = e.get("template");
                if (t == null || !t.isTextual()) {
                    throw new TokenizerException(file + ": field " + field + ": list entries need a \"template\" string");
                }
                if (first == null) {
                    first = t.asText();
                }
                if (name != null && "default".equals(name.asText())) {
                    return t.asText();
                }
            }
            return first;
        }
        throw new TokenizerException(file + ": field " + field + ": expected a string or a list of {name, template}");
    }

    static JsonNode readJson(Path file) {
        try {
            JsonNode n = JSON.readTree(file.toFile());
            if (n == null || n.isMissingNode()) {
                throw new TokenizerException(file + ": empty file, expected a JSON object");
            }
            return n;
        } catch (JsonProcessingException e) {
            throw new TokenizerException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        } catch (java.io.FileNotFoundException | NoSuchFileException e) {
            throw new TokenizerException(file + ": file not found", e);
        } catch (IOException e) {
            throw new TokenizerException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static TokenizerException bad(Path file, String field, String msg) {
        return new TokenizerException(file + ": field " + field + ": " + msg);
    }

    /** Builds a tokenizer from a parsed tokenizer.json ({@code file} names it in errors). */
    static Tokenizer parse(JsonNode root, Path file, Map<String, String> special, ChatTemplate ct) {
        if (!root.isObject()) {
            throw new TokenizerException(file + ": expected a JSON object at the top level");
        }
        JsonNode m = root.get("model");
        if (m == null || !m.isObject()) {
            throw bad(file, "model", "missing or not an object");
        }
        String type = m.hasNonNull("type") ? m.get("type").asText() : (m.has("merges") ? "BPE" : "?");
        if (!type.equals("BPE")) {
            throw bad(file, "model.type", "unsupported model type '" + type + "' (supported: BPE)");
        }
        JsonNode vocabNode = m.get("vocab");
        if (vocabNode == null || !vocabNode.isObject()) {
            throw bad(file, "model.vocab", "missing or not an object");
        }
        Map<String, Integer> vocab = new HashMap<>(vocabNode.size() * 2);
        int maxId = -1;
        for (Iterator<Map.Entry<String, JsonNode>> it = vocabNode.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().canConvertToInt() || e.getValue().asInt() < 0) {
                throw bad(file, "model.vocab[\"" + e.getKey() + "\"]", "expected a non-negative integer id");
            }
            int id = e.getValue().asInt();
            vocab.put(e.getKey(), id);
            maxId = Math.max(maxId, id);
        }
        // added tokens
        List<AddedVocabulary.AddedToken> addedTokens = new ArrayList<>();
        JsonNode at = root.get("added_tokens");
        if (at != null && !at.isNull()) {
            if (!at.isArray()) {
                throw bad(file, "added_tokens", "expected a list");
            }
            int k = 0;
            for (JsonNode t : at) {
                String f = "added_tokens[" + k++ + "]";
                if (!t.hasNonNull("id") || !t.get("id").canConvertToInt() || t.get("id").asInt() < 0
                        || !t.hasNonNull("content")) {
                    throw bad(file, f, "needs a non-negative integer id and a content string");
                }
                addedTokens.add(new AddedVocabulary.AddedToken(t.get("id").asInt(), t.get("content").asText(),
                        t.path("special").asBoolean(false), t.path("lstrip").asBoolean(false),
                        t.path("rstrip").asBoolean(false), t.path("single_word").asBoolean(false),
                        t.path("normalized").asBoolean(!t.path("special").asBoolean(false))));
                maxId = Math.max(maxId, t.get("id").asInt());
            }
        }
        // ids index an array: one far beyond the number of tokens is an error, not a huge allocation
        long entries = (long) vocab.size() + addedTokens.size();
        if (maxId >= 2 * entries + 1024) {
            throw bad(file, "model.vocab", "token id " + maxId + " is far outside a vocabulary of " + entries + " tokens");
        }
        String[] idToToken = new String[maxId + 1];
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            idToToken[e.getValue()] = e.getKey();
        }
        Map<String, Integer> tokenToId = new HashMap<>(vocab);
        for (AddedVocabulary.AddedToken t : addedTokens) {
            idToToken[t.id()] = t.content();
            tokenToId.put(t.content(), t.id());
        }
        // merges
        String prefix = m.hasNonNull("continuing_subword_prefix") ? m.get("continuing_subword_prefix").asText() : "";
        String suffix = m.hasNonNull("end_of_word_suffix") ? m.get("end_of_word_suffix").asText() : "";
        JsonNode mergesNode = m.get("merges");
        BpeModel.LongLongMap merges = new BpeModel.LongLongMap(mergesNode == null ? 16 : mergesNode.size());
        if (mergesNode != null && !mergesNode.isNull()) {
            if (!mergesNode.isArray()) {
                throw bad(file, "model.merges", "expected a list");
            }
            int rank = 0;
            for (JsonNode mn : mergesNode) {
                String a;
                String b;
                if (mn.isTextual()) {
                    String s = mn.asText();
                    int sp = s.indexOf(' ');
                    if (sp < 0 || s.indexOf(' ', sp + 1) >= 0) {
                        throw bad(file, "model.merges[" + rank + "]", "expected \"left right\", got \"" + s + "\"");
                    }
                    a = s.substring(0, sp);
                    b = s.substring(sp + 1);
                } else if (mn.isArray() && mn.size() == 2 && mn.get(0).isTextual() && mn.get(1).isTextual()) {
                    a = mn.get(0).asText();
                    b = mn.get(1).asText();
                } else {
                    throw bad(file, "model.merges[" + rank + "]", "expected \"left right\" or [left, right]");
                }
                Integer ia = vocab.get(a);
                Integer ib = vocab.get(b);
                if (ia == null) {
                    throw bad(file, "model.merges[" + rank + "]", "token \"" + a + "\" is not in model.vocab");
                }
                if (ib == null) {
                    throw bad(file, "model.merges[" + rank + "]", "token \"" + b + "\" is not in model.vocab");
                }
                String merged = a + (b.length() >= prefix.length() ? b.substring(prefix.length()) : b);
                Integer nid = vocab.get(merged);
                if (nid == null) {
                    throw bad(file, "model.merges[" + rank + "]", "merged token \"" + merged + "\" is not in model.vocab");
                }
                merges.put(BpeModel.key(ia, ib), ((long) rank << 32) | nid);
                rank++;
            }
        }
        Integer unkId = null;
        if (m.hasNonNull("unk_token")) {
            String unk = m.get("unk_token").asText();
            unkId = vocab.get(unk);
            if (unkId == null) {
                throw bad(file, "model.unk_token", "\"" + unk + "\" is not in model.vocab");
            }
        }
        if (m.hasNonNull("dropout") && m.get("dropout").asDouble() != 0.0) {
            throw bad(file, "model.dropout", "BPE dropout is not supported (non-deterministic)");
        }
        BpeModel model = new BpeModel(vocab, idToToken, merges, unkId, m.path("fuse_unk").asBoolean(false),
                m.path("byte_fallback").asBoolean(false), m.path("ignore_merges").asBoolean(false), prefix, suffix);
        Normalizer normalizer = parseNormalizer(root.get("normalizer"), file, "normalizer");
        PreTokenizer pre = parsePreTokenizer(root.get("pre_tokenizer"), file, "pre_tokenizer");
        PostProcessor post = parsePostProcessor(root.get("post_processor"), file, "post_processor", tokenToId);
        Decoder dec = parseDecoder(root.get("decoder"), file, "decoder");
        return new Tokenizer(normalizer, pre, model, null, post, dec, new AddedVocabulary(addedTokens, normalizer), idToToken,
                tokenToId, Collections.unmodifiableMap(special), ct);
    }

    private static String typeOf(JsonNode n, Path file, String field) {
        if (!n.isObject() || !n.hasNonNull("type")) {
            throw bad(file, field + ".type", "missing");
        }
        return n.get("type").asText();
    }

    private static String patternLiteral(JsonNode p) {
        return p != null && p.hasNonNull("String") ? p.get("String").asText() : null;
    }

    private static String patternRegex(JsonNode p, Path file, String field) {
        if (p != null && p.hasNonNull("Regex")) {
            return p.get("Regex").asText();
        }
        if (p != null && p.hasNonNull("String")) {
            return null;
        }
        throw bad(file, field, "expected {\"String\": ...} or {\"Regex\": ...}");
    }

    private static Pattern compile(String regex, Path file, String field) {
        try {
            return Oniguruma.compile(regex);
        } catch (java.util.regex.PatternSyntaxException e) {
            throw bad(file, field, "regex not supported: " + e.getDescription());
        }
    }

    private static Normalizer parseNormalizer(JsonNode n, Path file, String field) {
        if (n == null || n.isNull()) {
            return null;
        }
        String type = typeOf(n, file, field);
        return switch (type) {
            case "Sequence" -> {
                List<Normalizer> list = new ArrayList<>();
                int k = 0;
                for (JsonNode c : n.path("normalizers")) {
                    Normalizer x = parseNormalizer(c, file, field + ".normalizers[" + k++ + "]");
                    if (x != null) {
                        list.add(x);
                    }
                }
                yield new Normalizer.Sequence(list);
            }
            case "NFC" -> new Normalizer.Unicode(java.text.Normalizer.Form.NFC);
            case "NFD" -> new Normalizer.Unicode(java.text.Normalizer.Form.NFD);
            case "NFKC" -> new Normalizer.Unicode(java.text.Normalizer.Form.NFKC);
            case "NFKD" -> new Normalizer.Unicode(java.text.Normalizer.Form.NFKD);
            case "Prepend" -> new Normalizer.Prepend(n.path("prepend").asText());
            case "Replace" -> {
                String lit = patternLiteral(n.get("pattern"));
                String re = patternRegex(n.get("pattern"), file, field + ".pattern");
                yield new Normalizer.Replace(lit, re == null ? null : compile(re, file, field + ".pattern"),
                        n.path("content").asText());
            }
            case "Lowercase" -> new Normalizer.Lowercase();
            case "Strip" -> new Normalizer.Strip(n.path("strip_left").asBoolean(true), n.path("strip_right").asBoolean(true));
            default -> throw bad(file, field + ".type", "unsupported normalizer type '" + type + "'");
        };
    }

    private static PreTokenizer.Behavior behavior(JsonNode n, Path file, String field) {
        String b = n.asText("Isolated");
        return switch (b) {
            case "Removed" -> PreTokenizer.Behavior.REMOVED;
            case "Isolated" -> PreTokenizer.Behavior.ISOLATED;
            case "MergedWithPrevious" -> PreTokenizer.Behavior.MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> PreTokenizer.Behavior.MERGED_WITH_NEXT;
            case "Contiguous" -> PreTokenizer.Behavior.CONTIGUOUS;
            default -> throw bad(file, field, "unknown split behavior '" + b + "'");
        };
    }

    private static PreTokenizer parsePreTokenizer(JsonNode n, Path file, String field) {
        if (n == null || n.isNull()) {
            return null;
        }
        String type = typeOf(n, file, field);
        return switch (type) {
            case "Sequence" -> {
                List<PreTokenizer> list = new ArrayList<>();
                int k = 0;
                for (JsonNode c : n.path("pretokenizers")) {
                    PreTokenizer x = parsePreTokenizer(c, file, field + ".pretokenizers[" + k++ + "]");
                    if (x != null) {
                        list.add(x);
                    }
                }
                yield new PreTokenizer.Sequence(list);
            }
            case "Split" -> {
                String lit = patternLiteral(n.get("pattern"));
                String re = patternRegex(n.get("pattern"), file, field + ".pattern");
                SplitPattern p;
                if (re != null) {
                    compile(re, file, field + ".pattern"); // validate
                    p = SplitPattern.regex(re, file + " " + field + ".pattern '" + re + "'");
                } else {
                    p = SplitPattern.literal(lit);
                }
                yield new PreTokenizer.Split(p, n.path("invert").asBoolean(false),
                        behavior(n.path("behavior"), file, field + ".behavior"));
            }
            case "ByteLevel" -> new PreTokenizer.ByteLevelPre(n.path("add_prefix_space").asBoolean(true),
                    n.path("use_regex").asBoolean(true));
            case "Digits" -> new PreTokenizer.Digits(n.path("individual_digits").asBoolean(false));
            case "Metaspace" -> {
                String rep = n.path("replacement").asText("\u2581");
                if (rep.length() != 1) {
                    throw bad(file, field + ".replacement", "expected a single char");
                }
                String scheme = n.hasNonNull("prepend_scheme") ? n.get("prepend_scheme").asText()
                        : (n.path("add_prefix_space").asBoolean(true) ? "always" : "never");
                if (!scheme.equals("always") && !scheme.equals("first") && !scheme.equals("never")) {
                    throw bad(file, field + ".prepend_scheme", "unknown scheme '" + scheme + "'");
                }
                yield new PreTokenizer.Metaspace(rep.charAt(0), scheme, n.path("split").asBoolean(true));
            }
            case "Whitespace" -> new PreTokenizer.Regex(new SplitPattern.JavaRegex("\\w+|[^\\w\\s]+"),
                    PreTokenizer.Behavior.REMOVED, true);
            case "WhitespaceSplit" -> new PreTokenizer.Regex(new SplitPattern.JavaRegex("\\s+"),
                    PreTokenizer.Behavior.REMOVED, false);
            default -> throw bad(file, field + ".type", "unsupported pre-tokenizer type '" + type + "'");
        };
    }

    private static PostProcessor parsePostProcessor(JsonNode n, Path file, String field, Map<String, Integer> ids) {
        if (n == null || n.isNull()) {
            return PostProcessor.NONE;
        }
        String type = typeOf(n, file, field);
        switch (type) {
            case "ByteLevel":
                return PostProcessor.NONE;
            case "Sequence": {
                List<PostProcessor> list = new ArrayList<>();
                int k = 0;
                for (JsonNode c : n.path("processors")) {
                    list.add(parsePostProcessor(c, file, field + ".processors[" + k++ + "]", ids));
                }
                return PostProcessor.concat(list);
            }
            case "TemplateProcessing": {
                Map<String, int[]> specials = new HashMap<>();
                JsonNode st = n.path("special_tokens");
                for (Iterator<Map.Entry<String, JsonNode>> it = st.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    JsonNode idsNode = e.getValue().path("ids");
                    int[] a = new int[idsNode.size()];
                    for (int i = 0; i < a.length; i++) {
                        a[i] = idsNode.get(i).asInt();
                    }
                    specials.put(e.getKey(), a);
                }
                IntList before = new IntList();
                IntList after = new IntList();
                boolean seenSeq = false;
                JsonNode single = n.path("single");
                if (!single.isArray()) {
                    throw bad(file, field + ".single", "expected a list");
                }
                for (JsonNode piece : single) {
                    if (piece.has("Sequence")) {
                        seenSeq = true;
                    } else if (piece.has("SpecialToken")) {
                        String id = piece.get("SpecialToken").path("id").asText();
                        int[] a = specials.get(id);
                        if (a == null) {
                            throw bad(file, field + ".special_tokens", "no entry for \"" + id + "\"");
                        }
                        (seenSeq ? after : before).addAll(a);
                    } else {
                        throw bad(file, field + ".single", "unknown piece " + piece);
                    }
                }
                return new PostProcessor(before.toArray(), after.toArray());
            }
            case "RobertaProcessing":
            case "BertProcessing": {
                int cls = n.path("cls").path(1).asInt();
                int sep = n.path("sep").path(1).asInt();
                return new PostProcessor(new int[]{cls}, new int[]{sep});
            }
            default:
                throw bad(file, field + ".type", "unsupported post-processor type '" + type + "'");
        }
    }

    private static Decoder parseDecoder(JsonNode n, Path file, String field) {
        if (n == null || n.isNull()) {
            return null;
        }
        String type = typeOf(n, file, field);
        return switch (type) {
            case "Sequence" -> {
                List<Decoder> list = new ArrayList<>();
                int k = 0;
                for (JsonNode c : n.path("decoders")) {
                    Decoder d = parseDecoder(c, file, field + ".decoders[" + k++ + "]");
                    if (d != null) {
                        list.add(d);
                    }
                }
                yield new Decoder.Sequence(list);
            }
            case "ByteLevel" -> new Decoder.ByteLevelDec();
            case "Replace" -> {
                String lit = patternLiteral(n.get("pattern"));
                String re = patternRegex(n.get("pattern"), file, field + ".pattern");
                yield new Decoder.Replace(lit, re == null ? null : compile(re, file, field + ".pattern"),
                        n.path("content").asText());
            }
            case "ByteFallback" -> new Decoder.ByteFallback();
            case "Fuse" -> new Decoder.Fuse();
            case "Strip" -> {
                String c = n.path("content").asText(" ");
                if (c.length() != 1) {
                    throw bad(file, field + ".content", "expected a single char");
                }
                yield new Decoder.Strip(c.charAt(0), n.path("start").asInt(0), n.path("stop").asInt(0));
            }
            case "Metaspace" -> {
                String rep = n.path("replacement").asText("\u2581");
                String scheme = n.hasNonNull("prepend_scheme") ? n.get("prepend_scheme").asText()
                        : (n.path("add_prefix_space").asBoolean(true) ? "always" : "never");
                yield new Decoder.MetaspaceDec(rep.charAt(0), !scheme.equals("never"));
            }
            default -> throw bad(file, field + ".type", "unsupported decoder type '" + type + "'");
        };
    }

    // llama2.c tokenizer.bin ---------------------------------------------------------------------------------

    private static Tokenizer fromLlamaC(Path bin, Map<String, String> special, ChatTemplate ct) {
        LlamaCModel lc = LlamaCModel.read(bin);
        Map<String, Integer> tokenToId = new HashMap<>();
        for (int i = lc.vocab.length - 1; i >= 0; i--) {
            tokenToId.put(lc.vocab[i], i);
        }
        List<AddedVocabulary.AddedToken> specials = new ArrayList<>();
        for (int i = 0; i < Math.min(3, lc.vocab.length); i++) {
            specials.add(new AddedVocabulary.AddedToken(i, lc.vocab[i], true, false, false, false, false));
        }
        Map<String, String> sp = new LinkedHashMap<>(special);
        // llama2.c spells <s> and </s> as "\n<s>\n", "\n</s>\n"; the usual names resolve to the same ids
        for (int i = 0; i < 3; i++) {
            tokenToId.putIfAbsent(lc.vocab[i].strip(), i);
        }
        sp.putIfAbsent("bos_token", lc.vocab[1].strip());
        sp.putIfAbsent("eos_token", lc.vocab[2].strip());
        sp.putIfAbsent("unk_token", lc.vocab[0].strip());
        // specials are recognised in text only in the tokenizer.json world; llama2.c never matches them
        return new Tokenizer(null, null, null, lc, new PostProcessor(new int[]{1}, new int[0]), null,
                new AddedVocabulary(specials), lc.vocab, tokenToId, Collections.unmodifiableMap(sp), ct);
    }

}

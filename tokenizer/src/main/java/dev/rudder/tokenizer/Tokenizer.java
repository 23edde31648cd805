package dev.rudder.tokenizer;


import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A Hugging Face {@code tokenizer.json} tokenizer (BPE: byte-level as in GPT-2/SmolLM/Llama-3/Qwen, and
 * SentencePiece-style with {@code ▁} and byte fallback as in Llama-2/Mistral) that produces exactly the ids of the
 * reference {@code tokenizers} library, plus the chat template and special tokens of {@code tokenizer_config.json}.
 * Also reads llama2.c {@code tokenizer.bin}/{@code tok512.bin} files. Instances are immutable and thread-safe.
 */
public final class Tokenizer {
    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final BpeModel model;
    private final LlamaCModel llamaC;
    private final PostProcessor postProcessor;
    private final Decoder decoder;
    private final AddedVocabulary added;
    private final String[] idToToken;
    private final Map<String, Integer> tokenToId;
    private final Map<String, String> specialTokens;
    private final ChatTemplate chatTemplate;

    /**
     * Assembles a tokenizer from its parts (what {@link TokenizerJson} reads from tokenizer.json, or
     * another loader reads from another format, e.g. a GGUF vocabulary).
     *
     * @param normalizer    applied to text outside added tokens; null for none
     * @param preTokenizer  splits normalized text into pieces; null for none
     * @param model         the BPE model (null when {@code llamaC} is given)
     * @param llamaC        a llama2.c vocabulary instead of a BPE model, else null
     * @param postProcessor adds BOS/EOS around an encoding
     * @param decoder       turns tokens back into text; null joins tokens with spaces
     * @param added         added (special) tokens matched before the model runs
     * @param idToToken     token text by id (entries may be null for unused ids)
     * @param tokenToId     id by token text (vocabulary plus added tokens)
     * @param specialTokens special-token roles to their text ({@code bos_token} -> {@code <s>}, ...)
     * @param chatTemplate  the chat template, or null
     */
    Tokenizer(Normalizer normalizer, PreTokenizer preTokenizer, BpeModel model, LlamaCModel llamaC,
                      PostProcessor postProcessor, Decoder decoder, AddedVocabulary added, String[] idToToken,
                      Map<String, Integer> tokenToId, Map<String, String> specialTokens, ChatTemplate chatTemplate) {
        this.normalizer = normalizer;
        this.preTokenizer = preTokenizer;
        this.model = model;
        this.llamaC = llamaC;
        this.postProcessor = postProcessor;
        this.decoder = decoder;
        this.added = added;
        this.idToToken = idToToken;
        this.tokenToId = tokenToId;
        this.specialTokens = specialTokens;
        this.chatTemplate = chatTemplate;
    }

    // ------------------------------------------------------------------------------------------------ loading

    /**
     * Loads the tokenizer of a model folder: {@code tokenizer.json} plus, when present, {@code tokenizer_config.json}
     * (special tokens, chat template) and {@code chat_template.jinja} / {@code chat_template.json}. A folder with only
     * a llama2.c {@code tokenizer.bin} or {@code tok*.bin} file is read as that format. A Hugging Face cache folder
     * ({@code models--org--name}) resolves to its snapshot.
     *
     * @throws TokenizerException naming the file and field at fault
     */
    public static Tokenizer fromModelDir(Path dir) {
        return TokenizerJson.fromModelDir(dir);
    }

    /** Loads a {@code tokenizer.json} file alone (no special-token names, no chat template). */
    public static Tokenizer fromFile(Path tokenizerJson) {
        return TokenizerJson.fromFile(tokenizerJson);
    }

    // ------------------------------------------------------------------------------------------------ encode

    /** Token ids of {@code text}; {@code addSpecialTokens} runs the post-processor (e.g. prepends BOS). */
    public int[] encode(String text, boolean addSpecialTokens) {
        IntList out = new IntList(text.length() / 3 + 8);
        if (addSpecialTokens) {
            out.addAll(postProcessor.before());
        }
        encodeInto(text, out, null);
        if (addSpecialTokens) {
            out.addAll(postProcessor.after());
        }
        return out.toArray();
    }

    /** Ids, token strings and the special-tokens mask (1 for tokens the post-processor inserted). */
    public Encoding encodeDetailed(String text, boolean addSpecialTokens) {
        IntList out = new IntList(text.length() / 3 + 8);
        if (addSpecialTokens) {
            out.addAll(postProcessor.before());
        }
        Map<Integer, String> matched = new HashMap<>();
        encodeInto(text, out, matched);
        if (addSpecialTokens) {
            out.addAll(postProcessor.after());
        }
        int[] ids = out.toArray();
        int[] mask = new int[ids.length];
        if (addSpecialTokens) {
            int b = postProcessor.before().length;
            int a = postProcessor.after().length;
            for (int i = 0; i < b; i++) {
                mask[i] = 1;
            }
            for (int i = ids.length - a; i < ids.length; i++) {
                mask[i] = 1;
            }
        }
        List<String> tokens = new ArrayList<>(ids.length);
        for (int i = 0; i < ids.length; i++) {
            // an added token matched in the text shows the text it covers (with lstrip/rstrip whitespace), as in HF
            String m = matched.get(i);
            tokens.add(m != null ? m : token(ids[i]));
        }
        return new Encoding(ids, Collections.unmodifiableList(tokens), mask);
    }

    private void encodeInto(String text, IntList out, Map<Integer, String> matched) {
        text = Text.sanitize(text);
        if (llamaC != null) {
            llamaC.encode(text, out);
            return;
        }
        for (AddedVocabulary.Segment seg : added.splitRaw(text)) {
            if (seg.id() >= 0) {
                if (matched != null) {
                    matched.put(out.size, seg.text());
                }
                out.add(seg.id());
                continue;
            }
            String norm = normalizer == null ? seg.text() : normalizer.normalize(seg.text());
            if (added.hasNormalized()) {
                for (AddedVocabulary.Segment sub : added.splitNormalized(norm, seg.atStart())) {
                    if (sub.id() >= 0) {
                        if (matched != null) {
                            matched.put(out.size, sub.text());
                        }
                        out.add(sub.id());
                    } else {
                        tokenizePiece(sub.text(), sub.atStart(), out);
                    }
                }
            } else {
                tokenizePiece(norm, seg.atStart(), out);
            }
        }
    }

    /** The normalizer's output for {@code text} (the text between added tokens), for comparisons with the library. */
    String normalize(String text) {
        return normalizer == null ? text : normalizer.normalize(text);
    }

    /** The pre-tokenizer's pieces of normalized text at the start of the input, for comparisons with the library. */
    List<String> preTokenize(String normalized) {
        if (preTokenizer == null) {
            return List.of(normalized);
        }
        List<String> pieces = new ArrayList<>();
        for (PreTokenizer.Piece p : preTokenizer.apply(List.of(new PreTokenizer.Piece(normalized, true)))) {
            pieces.add(p.text());
        }
        return pieces;
    }

    private void tokenizePiece(String s, boolean atStart, IntList out) {
        if (s.isEmpty()) {
            return;
        }
        if (preTokenizer == null) {
            model.tokenize(s, out);
            return;
        }
        List<PreTokenizer.Piece> pieces = preTokenizer.apply(List.of(new PreTokenizer.Piece(s, atStart)));
        for (PreTokenizer.Piece p : pieces) {
            model.tokenize(p.text(), out);
        }
    }

    // ------------------------------------------------------------------------------------------------ decode

    /** Text of {@code ids}; unknown ids are ignored, special tokens dropped when {@code skipSpecialTokens}. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            if (id < 0 || id >= idToToken.length || idToToken[id] == null) {
                continue;
            }
            if (skipSpecialTokens && added.specialIds.contains(id)) {
                continue;
            }
            tokens.add(added.decodeForm(id, idToToken[id]));
        }
        if (llamaC != null) {
            return llamaC.decode(ids, skipSpecialTokens);
        }
        if (decoder == null) {
            return String.join(" ", tokens);
        }
        return String.join("", decoder.decodeChain(tokens));
    }

    /** A decoder for generation loops that emits only complete characters. */
    public StreamingDecoder streamingDecoder(boolean skipSpecialTokens) {
        return new StreamingDecoder(this, skipSpecialTokens);
    }

    // ------------------------------------------------------------------------------------------------ vocabulary

    /** Number of ids (model vocabulary and added tokens: the largest id + 1). */
    public int vocabSize() {
        return idToToken.length;
    }

    /** The token string of {@code id} (vocabulary form, e.g. {@code ▁Hello}, {@code Ġworld}, {@code <0x0A>}). */
    public String token(int id) {
        if (id < 0 || id >= idToToken.length || idToToken[id] == null) {
            throw new TokenizerException("token id " + id + " is out of the vocabulary (size " + idToToken.length + ")");
        }
        return idToToken[id];
    }

    public OptionalInt tokenId(String token) {
        Integer id = tokenToId.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** Whether {@code id} is an added token marked special (skipped by {@code decode(ids, true)}). */
    public boolean isSpecial(int id) {
        return added.specialIds.contains(id);
    }

    /** bos_token, eos_token, unk_token, pad_token from tokenizer_config.json, when set. */
    public Map<String, String> specialTokens() {
        return specialTokens;
    }

    /** The chat template from tokenizer_config.json ({@code chat_template}), chat_template.jinja or .json. */
    public Optional<ChatTemplate> chatTemplate() {
        return Optional.ofNullable(chatTemplate);
    }

    /**
     * Renders the model's chat template like {@code apply_chat_template(tokenize=False)}: the special tokens of
     * {@link #specialTokens()} are passed to the template unless {@code extraVariables} sets them.
     *
     * @throws ChatTemplateException when the model has no chat template or the template raises an error
     */
    public String applyChatTemplate(List<Map<String, Object>> messages, boolean addGenerationPrompt,
                                    Map<String, Object> extraVariables) {
        if (chatTemplate == null) {
            throw new ChatTemplateException("this tokenizer has no chat template (tokenizer_config.json chat_template)");
        }
        Map<String, Object> vars = new LinkedHashMap<>(specialTokens);
        if (extraVariables != null) {
            vars.putAll(extraVariables);
        }
        return chatTemplate.render(messages, addGenerationPrompt, vars);
    }

    @Override
    public String toString() {
        return "Tokenizer[vocab=" + idToToken.length + (llamaC != null ? ", llama2.c" : "") + "]";
    }

    static int[] copy(int[] a) {
        return Arrays.copyOf(a, a.length);
    }
}

package dev.rudder;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.backend.KvCacheTypes;
import dev.rudder.runtime.generate.Generator;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.cuda.DeviceChoice;
import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.sample.SamplerOptions;
import dev.rudder.runtime.steer.SteeringPlan;
import dev.rudder.steering.delta.DeltaSet;
import dev.rudder.tokenizer.StreamingDecoder;
import dev.rudder.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * The library facade: a model folder loaded with its tokenizer and chat template, ready to
 * generate (optionally steered). The {@code rudder} command is a thin layer over this class.
 *
 * <pre>{@code
 * try (Rudder r = Rudder.load(Path.of("models/rudder-chat/aligned"))) {
 *     Generation g = r.generate(GenerationRequest.chat(r, List.of(ChatMessage.user("Hi!"))), System.out::print);
 * }
 * }</pre>
 */
public final class Rudder implements AutoCloseable {
    private final Model model;
    private final Tokenizer tokenizer;   // null when the folder has no tokenizer.json
    private final Set<Integer> stopTokens;
    private final DeltaSet deltas;      // null when loaded without alignment vectors

    private Rudder(Model model, Tokenizer tokenizer, Set<Integer> stopTokens, DeltaSet deltas) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.stopTokens = stopTokens;
        this.deltas = deltas;
    }

    /** Loads a Hugging Face model folder (or cache folder, or a GGUF file) using all processors. */
    public static Rudder load(Path dir) {
        return load(dir, LoadOptions.defaults());
    }

    /** Loads with {@code threads} workers and no alignment vectors. */
    public static Rudder load(Path dir, int threads) {
        return load(dir, LoadOptions.defaults().withThreads(threads));
    }

    /** Loads with the given threads and alignment vectors (deltas), which are checked against the model first. */
    public static Rudder load(Path dir, LoadOptions options) {
        DeltaSet deltas = options.deltas().isEmpty() ? null : DeltaSet.open(options.deltas());
        return load(dir, options.threads(), deltas, options.device(), options.quantize(), options.kvCache());
    }

    /** Loads with {@code threads} workers, merging {@code deltas} (may be null); the model owns them from here on. */
    public static Rudder load(Path dir, int threads, DeltaSet deltas) {
        return load(dir, threads, deltas, DeviceChoice.CPU);
    }

    /**
     * Like {@link #load(Path, int, DeltaSet)} on {@code device}: {@code cuda}/{@code cuda:N}
     * without a usable NVIDIA driver and GPU is a {@link dev.rudder.runtime.cuda.CudaException}
     * saying why; {@code auto} then runs on the CPU and says why in one line on stderr.
     */
    public static Rudder load(Path dir, int threads, DeltaSet deltas, DeviceChoice device) {
        return load(dir, threads, deltas, device, null);
    }

    /** As above, quantizing float matrices to {@code quantize} ("Q8_0", "Q4_0") at load when not null. */
    public static Rudder load(Path dir, int threads, DeltaSet deltas, DeviceChoice device, String quantize) {
        return load(dir, threads, deltas, device, quantize, KvCacheTypes.DEFAULT);
    }

    private static Rudder load(Path dir, int threads, DeltaSet deltas, DeviceChoice device, String quantize,
                               KvCacheTypes kvCache) {
        Model model;
        try {
            DeviceChoice resolved = device.resolve(System.err::println);
            if (resolved.isCuda() && kvCache != null && !kvCache.equals(KvCacheTypes.DEFAULT)) {
                throw new BadInputException("a " + kvCache + " KV cache (--cache-type-k/-v) runs on the CPU only; the CUDA"
                        + " backend keeps float32 keys and values");
            }
            if (deltas != null) {
                deltas.checkCompatible(dir);   // every delta fits this model, before anything is loaded
            }
            model = Model.load(dir, threads, deltas, quantize, resolved.backend(), kvCache);
        } catch (RuntimeException e) {
            closeDeltas(deltas);
            throw e;
        }
        try {
            Path resolved = model.directory();
            Tokenizer tok = ModelTokenizers.find(resolved).orElse(null);
            return new Rudder(model, tok, stopTokens(model.config(), resolved, tok), deltas);
        } catch (RuntimeException e) {
            model.close();
            closeDeltas(deltas);
            throw e;
        }
    }

    /** End-of-sequence ids from config.json, generation_config.json and the tokenizer's eos_token. */
    private static Set<Integer> stopTokens(ModelConfig cfg, Path dir, Tokenizer tok) {
        Set<Integer> stops = new LinkedHashSet<>();
        if (cfg.eosTokenIds() != null) {
            stops.addAll(cfg.eosTokenIds());
        }
        Path gen = dir.resolve("generation_config.json");
        if (Files.isDirectory(dir) && Files.exists(gen)) {
            try {
                JsonNode eos = new ObjectMapper().readTree(gen.toFile()).get("eos_token_id");
                List<JsonNode> ids = new ArrayList<>();
                if (eos != null && eos.isArray()) {
                    eos.forEach(ids::add);
                } else if (eos != null && !eos.isNull()) {
                    ids.add(eos);
                }
                for (JsonNode e : ids) {
                    if (!e.canConvertToInt() || e.asInt() < 0 || e.asInt() >= cfg.vocabSize()) {
                        throw new BadInputException(gen + ": eos_token_id " + e + " is not a token id of this model (vocab_size "
                                + cfg.vocabSize() + ")");
                    }
                    stops.add(e.asInt());
                }
            } catch (IOException e) {
                throw new BadInputException(gen + " is not valid JSON: " + e.getMessage(), e);
            }
        }
        if (tok != null) {
            String eos = tok.specialTokens().get("eos_token");
            if (eos != null) {
                tok.tokenId(eos).ifPresent(stops::add);
            }
            if (!Files.isDirectory(dir)) {
                stops.addAll(ggufEndOfGeneration(tok));
            }
        }
        return stops;
    }

    /**
     * Tokens llama.cpp ends generation at in any GGUF file by their text (its loader's end-of-generation set), besides
     * the ids the metadata names: many files, Llama 3 Instruct conversions among them, name only {@code <|end_of_text|>}
     * as EOS while the chat template ends each turn with {@code <|eot_id|>}, and would run on past the answer.
     */
    static final List<String> GGUF_END_OF_GENERATION = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>",
            "<|call|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>",
            "<end_of_utterance>", "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "<|fim_repo|>", "<|repo_name|>",
            "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>");

    /** The ids of {@link #GGUF_END_OF_GENERATION} tokens in {@code tok}'s vocabulary. */
    static Set<Integer> ggufEndOfGeneration(Tokenizer tok) {
        Set<Integer> ids = new LinkedHashSet<>();
        for (String t : GGUF_END_OF_GENERATION) {
            tok.tokenId(t).ifPresent(ids::add);
        }
        return ids;
    }

    public Model model() {
        return model;
    }

    public ModelConfig config() {
        return model.config();
    }

    public Optional<Tokenizer> tokenizer() {
        return Optional.ofNullable(tokenizer);
    }

    public Set<Integer> stopTokens() {
        return stopTokens;
    }

    /** The tokenizer, or a clear error when the model folder has none. */
    public Tokenizer requireTokenizer() {
        if (tokenizer == null) {
            throw new BadInputException("model " + model.directory() + " has no tokenizer (tokenizer.json, llama2.c"
                    + " tokenizer.bin or GGUF tokenizer metadata); pass token ids (--prompt-ids) instead of text");
        }
        return tokenizer;
    }

    /** Encodes plain text, adding the tokenizer's BOS/EOS as its post-processor says. */
    public PromptInput encode(String text) {
        return PromptInput.tokens(requireTokenizer().encode(text, true));
    }

    /** Renders messages with the model's chat template and the generation prompt. */
    public String renderChat(List<ChatMessage> messages) {
        Tokenizer tok = requireTokenizer();
        tok.chatTemplate().orElseThrow(() -> new BadInputException(
                "model " + model.directory() + " has no chat template (chat_template in tokenizer_config.json, or"
                        + " tokenizer.chat_template in GGUF metadata)"));
        List<Map<String, Object>> msgs = new ArrayList<>();
        for (ChatMessage m : messages) {
            msgs.add(Map.of("role", m.role(), "content", m.content()));
        }
        return tok.applyChatTemplate(msgs, true, Map.of());   // fills bos_token, eos_token, ... from the config
    }

    /**
     * Encodes a rendered chat prompt. The template already holds the special tokens it wants
     * (e.g. BOS), so the post-processor is not run again.
     */
    public PromptInput encodeChat(List<ChatMessage> messages) {
        return PromptInput.tokens(requireTokenizer().encode(renderChat(messages), false));
    }

    /** Starts a session (KV cache) for low-level use: prefill/decode/steering reports. */
    public Session newSession(int contextLength, SteeringPlan plan) {
        return model.newSession(contextLength, plan);
    }

    /**
     * Generates text for the request; decoded text is streamed to {@code onText} as tokens are
     * produced (complete UTF-8 characters only). Special tokens are not printed.
     */
    public Generation generate(GenerationRequest request, Consumer<String> onText) {
        return generate(request, onText, null);
    }

    /**
     * As above, and reports prefill progress: prompt tokens done, after each part of a long prompt (prefilled in
     * parts that give the same result bit for bit) and at the end; see {@link Generator#generate}.
     */
    public Generation generate(GenerationRequest request, Consumer<String> onText, IntConsumer prefillProgress) {
        int max = model.config().maxPositionEmbeddings() > 0 ? model.config().maxPositionEmbeddings() : Integer.MAX_VALUE;
        // in long: a token budget near Integer.MAX_VALUE must not wrap the sum negative
        int ctx = request.contextLength() > 0 ? request.contextLength()
                : (int) Math.min(max, (long) request.prompt().length() + request.maxTokens());
        if (request.prompt().length() >= ctx && request.maxTokens() > 0) {
            throw new BadInputException("prompt of " + request.prompt().length() + " tokens does not fit the context length of "
                    + ctx + " with room to generate");
        }
        return generateOn(model.newSession(ctx, request.plan()), request.prompt(), request, onText, prefillProgress);
    }

    /** Runs {@code prompt} on {@code session} (appended to what it holds) and streams the decoded text. */
    Generation generateOn(Session session, PromptInput prompt, GenerationRequest request, Consumer<String> onText,
                          IntConsumer prefillProgress) {
        StreamingDecoder decoder = tokenizer == null ? null : tokenizer.streamingDecoder(true);
        StringBuilder text = new StringBuilder();
        Set<Integer> stops = request.stopAtEos() ? stopTokens : Set.of();
        Consumer<String> emit = piece -> {
            if (!piece.isEmpty()) {
                text.append(piece);
                if (onText != null) {
                    onText.accept(piece);
                }
            }
        };
        Generator.Result r = Generator.generate(session, prompt, request.sampling(), request.maxTokens(), stops, id -> {
            if (decoder != null && !stops.contains(id)) {
                emit.accept(decoder.accept(id));
            }
            return true;
        }, prefillProgress);
        if (decoder != null) {
            emit.accept(decoder.flush());   // bytes of a character cut off by the token budget
        }
        return new Generation(text.toString(), r.tokens(), r, session.report());
    }

    /**
     * A multi-turn conversation that keeps its KV cache between turns: each turn renders the
     * whole history with the chat template and prefills only what the cache does not already
     * hold. With a gated plan every turn is a new request (the gate decides per request).
     */
    public Conversation conversation(SteeringPlan plan, SamplerOptions sampling, int contextLength) {
        return new Conversation(this, plan, sampling, contextLength);
    }

    /**
     * Changes the lambda of alignment vector {@code index} (in the order given at load) and
     * re-merges the weights in place, without reopening any file. Not while a request runs.
     */
    public void setDeltaLambda(int index, double lambda) {
        if (deltas == null) {
            throw new BadInputException("this model was loaded without alignment vectors (--delta)");
        }
        if (index < 0 || index >= deltas.size()) {
            throw new BadInputException("alignment vector index " + index + " out of range (0.." + (deltas.size() - 1) + ")");
        }
        deltas.setLambda(index, (float) lambda);
    }

    private static void closeDeltas(DeltaSet d) {
        if (d != null) {
            d.close();   // read-only mappings: closing cannot lose data
        }
    }

    @Override
    public void close() {
        model.close();
        closeDeltas(deltas);
    }
}

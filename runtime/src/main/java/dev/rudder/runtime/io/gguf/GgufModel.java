package dev.rudder.runtime.io.gguf;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.io.RopeScaling;
import dev.rudder.runtime.io.TensorInfo;
import dev.rudder.runtime.io.TensorStore;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A model in one GGUF file, as llama.cpp writes it: the {@link ModelConfig} from the {@code <arch>.*} metadata of the
 * {@code llama} (Llama 2/3, Mistral, TinyLlama, SmolLM) and {@code qwen2} architectures, and a {@link TensorStore}
 * whose tensors carry the Hugging Face names ({@link GgufNames}) over the mapped file (no copies).
 */
public final class GgufModel {
    /** GGUF architectures and the Hugging Face ones they stand for. */
    private static final Map<String, String> ARCHITECTURES = Map.of(
            "llama", ModelConfig.LLAMA, "qwen2", ModelConfig.QWEN2);

    private GgufModel() {
    }

    /** True when {@code path} is a regular file starting with the GGUF magic. */
    public static boolean isGgufFile(Path path) {
        if (!Files.isRegularFile(path)) {
            return false;
        }
        try (InputStream in = Files.newInputStream(path)) {
            byte[] b = in.readNBytes(4);
            return b.length == 4 && b[0] == 'G' && b[1] == 'G' && b[2] == 'U' && b[3] == 'F';
        } catch (IOException e) {
            return false;
        }
    }

    /** Opens {@code file}; the caller closes the returned file (which unmaps every tensor). */
    public static GgufFile open(Path file) {
        if (!Files.exists(file)) {
            throw new BadInputException("model file " + file + " does not exist");
        }
        try {
            return GgufFile.open(file);
        } catch (UncheckedIOException e) {
            // e.g. a folder named *.gguf
            throw new BadInputException("cannot read GGUF file " + file + ": " + e.getCause().getMessage(), e);
        }
    }

    /** The configuration the metadata describes; errors name the file and the metadata key. */
    public static ModelConfig config(GgufFile g) {
        String arch = g.requireString("general.architecture");
        String hfArch = ARCHITECTURES.get(arch);
        if (hfArch == null) {
            throw g.bad("has general.architecture = " + arch + ", which is not supported (supported: llama, qwen2)");
        }
        String p = arch + ".";
        int hidden = positive(g, p + "embedding_length", -1);
        int layers = positive(g, p + "block_count", -1);
        int heads = positive(g, p + "attention.head_count", -1);
        int kvHeads = positive(g, p + "attention.head_count_kv", heads);
        if (heads % kvHeads != 0) {
            throw g.bad("metadata " + p + "attention.head_count_kv " + kvHeads + " does not divide "
                    + p + "attention.head_count " + heads);
        }
        if (hidden % heads != 0 && g.get(p + "attention.key_length") == null) {
            throw g.bad("metadata " + p + "embedding_length " + hidden + " is not divisible by " + p
                    + "attention.head_count " + heads + " (and no " + p + "attention.key_length)");
        }
        int headDim = positive(g, p + "attention.key_length", hidden / heads);
        int valueDim = positive(g, p + "attention.value_length", headDim);
        if (valueDim != headDim || headDim % 2 != 0) {
            throw g.bad("metadata " + p + "attention.value_length " + valueDim + " must equal the (even) key_length "
                    + headDim);
        }
        int ropeDims = positive(g, p + "rope.dimension_count", headDim);
        if (ropeDims != headDim) {
            throw g.bad("metadata " + p + "rope.dimension_count " + ropeDims + ": partial rotary embeddings are not"
                    + " supported (head size " + headDim + ")");
        }
        int intermediate = positive(g, p + "feed_forward_length", -1);
        GgufTensor embd = g.tensor("token_embd.weight");
        if (embd == null) {
            throw g.bad("has no tensor token_embd.weight");
        }
        int vocab = positive(g, p + "vocab_size", embd.dims().length == 2 ? (int) embd.dims()[1] : -1);
        double eps = g.number(p + "attention.layer_norm_rms_epsilon", 1e-6);
        if (!(eps > 0)) {
            throw g.bad("metadata " + p + "attention.layer_norm_rms_epsilon must be positive, got " + eps);
        }
        double theta = g.number(p + "rope.freq_base", 10000.0);
        if (!(theta > 0)) {
            throw g.bad("metadata " + p + "rope.freq_base must be positive, got " + theta);
        }
        RopeScaling scaling = ropeScaling(g, p);
        int ctx = positive(g, p + "context_length", 2048);
        boolean tied = g.tensor("output.weight") == null;
        boolean bias = hfArch.equals(ModelConfig.QWEN2) || g.tensor("blk.0.attn_q.bias") != null;
        Integer bos = g.get("tokenizer.ggml.bos_token_id") == null ? null
                : (int) g.integer("tokenizer.ggml.bos_token_id", 0);
        List<Integer> eos = new ArrayList<>();
        for (String key : List.of("tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id")) {
            if (g.get(key) != null && !eos.contains((int) g.integer(key, 0))) {
                eos.add((int) g.integer(key, 0));   // end of turn / message end a generation too
            }
        }
        return new ModelConfig(hfArch, arch, hidden, layers, heads, kvHeads, headDim, intermediate, vocab, eps, theta,
                scaling, ctx, tied, bias, false, bos, eos, null);
    }

    private static RopeScaling ropeScaling(GgufFile g, String p) {
        GgufValue type = g.get(p + "rope.scaling.type");
        if (type == null || type.type() != GgufValueType.STRING || "none".equals(type.value())) {
            return null;
        }
        if ("linear".equals(type.value())) {
            double f = g.number(p + "rope.scaling.factor", 1.0);
            return f == 1.0 ? null : RopeScaling.linear(f);
        }
        throw g.bad("metadata " + p + "rope.scaling.type = " + type.value() + " is not supported (supported: none, linear;"
                + " llama 3 scaling comes as the rope_freqs.weight tensor)");
    }

    private static int positive(GgufFile g, String key, int dflt) {
        if (g.get(key) == null) {
            if (dflt <= 0) {
                throw g.bad("has no metadata " + key);
            }
            return dflt;
        }
        long v = g.integer(key, 0);
        if (v <= 0 || v > Integer.MAX_VALUE) {
            throw g.bad("metadata " + key + " is " + v + ", expected a positive integer");
        }
        return (int) v;
    }

    /**
     * The tensors of {@code g} under Hugging Face names, in a store that owns (and on close, closes) the file's arena.
     * Every tensor must have a type Rudder computes with; the error names file, tensor and type.
     */
    public static TensorStore tensors(GgufFile g, ModelConfig config) {
        List<TensorInfo> out = new ArrayList<>();
        for (GgufTensor t : g.tensors()) {
            DType d = dtype(g, t);
            out.add(new TensorInfo(GgufNames.toHf(t.name()), d, t.shape(), t.data(), g.file()));
        }
        // llama.cpp's converter permutes q/k rows of the llama architecture only (qwen2 runs NeoX-style RoPE)
        boolean pairs = "llama".equals(config.modelType());
        return TensorStore.of(g.file(), g.arena(), out, pairs, GgufNames::toGguf);
    }

    private static DType dtype(GgufFile g, GgufTensor t) {
        if (t.type().isWeightType()) {
            return DType.valueOf(t.type().name());
        }
        throw g.bad("tensor " + t.name() + ": type " + t.type() + " is not supported; supported: "
                + GgmlType.weightTypeNames());
    }
}

package dev.rudder.runtime.model;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.io.TensorInfo;
import dev.rudder.runtime.io.TensorStore;
import dev.rudder.runtime.tensor.WeightMatrices;
import dev.rudder.runtime.tensor.WeightMatrix;

import java.util.Optional;

/**
 * All weights of a LLaMA-shaped checkpoint, read from a {@link TensorStore} under Hugging Face
 * tensor names. Matrices stay memory-mapped in their stored dtype; norms and biases are small
 * and widened to float32. A {@link WeightTransform} (alignment-vector merging) may replace any
 * tensor by a float32 copy.
 */
public final class ModelWeights {
    final ModelConfig config;
    final WeightMatrix embedding;
    final WeightMatrix lmHead;
    final float[] finalNorm;
    final LayerWeights[] layers;

    private final TensorStore store;
    private final WeightTransform transform;

    public ModelWeights(ModelConfig config, TensorStore store, WeightTransform transform) {
        this.config = config;
        this.store = store;
        this.transform = transform;
        int h = config.hiddenSize();
        int qDim = config.numHeads() * config.headDim();
        int kvDim = config.numKvHeads() * config.headDim();
        int inter = config.intermediateSize();
        int vocab = config.vocabSize();

        checkLayerCount(config, store);
        embedding = matrix("model.embed_tokens.weight", vocab, h);
        if (config.tieWordEmbeddings()) {
            lmHead = store.find("lm_head.weight").isPresent() ? matrix("lm_head.weight", vocab, h) : embedding;
        } else {
            lmHead = matrix("lm_head.weight", vocab, h);
        }
        finalNorm = vector("model.norm.weight", h);
        layers = new LayerWeights[config.numLayers()];
        boolean attnBias = config.attentionBias();
        boolean mlpBias = config.mlpBias();
        for (int l = 0; l < layers.length; l++) {
            String p = "model.layers." + l + ".";
            layers[l] = new LayerWeights(
                    vector(p + "input_layernorm.weight", h),
                    matrix(p + "self_attn.q_proj.weight", qDim, h),
                    matrix(p + "self_attn.k_proj.weight", kvDim, h),
                    matrix(p + "self_attn.v_proj.weight", kvDim, h),
                    matrix(p + "self_attn.o_proj.weight", h, qDim),
                    attnBias ? vector(p + "self_attn.q_proj.bias", qDim) : null,
                    attnBias ? vector(p + "self_attn.k_proj.bias", kvDim) : null,
                    attnBias ? vector(p + "self_attn.v_proj.bias", kvDim) : null,
                    optionalVector(p + "self_attn.o_proj.bias", h),
                    vector(p + "post_attention_layernorm.weight", h),
                    matrix(p + "mlp.gate_proj.weight", inter, h),
                    matrix(p + "mlp.up_proj.weight", inter, h),
                    matrix(p + "mlp.down_proj.weight", h, inter),
                    mlpBias ? vector(p + "mlp.gate_proj.bias", inter) : null,
                    mlpBias ? vector(p + "mlp.up_proj.bias", inter) : null,
                    mlpBias ? vector(p + "mlp.down_proj.bias", h) : null);
        }
    }

    private WeightMatrix matrix(String name, int rows, int cols) {
        TensorInfo t = store.require(name, rows, cols);
        if (transform != null && transform.touches(name)) {
            return WeightMatrices.ofFloats(transform.apply(name, store.readFloats(t)), rows, cols);
        }
        switch (t.dtype()) {
            case F32, F16, BF16 -> {
                return WeightMatrices.wrap(t.dtype(), t.data(), rows, cols);
            }
            default -> throw new BadInputException("tensor " + name + " in " + t.file() + " has dtype " + t.dtype()
                    + "; weights must be F32, F16 or BF16");
        }
    }

    private float[] vector(String name, int n) {
        TensorInfo t = store.require(name, n);
        float[] v = store.readFloats(t);
        v = transform != null && transform.touches(name) ? transform.apply(name, v) : v;
        // norms and biases are small and already widened: a NaN or infinity here is found for free
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw new BadInputException("tensor " + name + " in " + t.file() + " holds a non-finite value (" + v[i]
                        + " at index " + i + ")" + (transform != null && transform.touches(name) ? " after merging the deltas" : ""));
            }
        }
        return v;
    }

    /**
     * Layer tensors and num_hidden_layers must agree: tensors for layers the config does not have
     * would otherwise be ignored silently (half a model running as if whole).
     */
    private static void checkLayerCount(ModelConfig config, TensorStore store) {
        int highest = -1;
        String example = null;
        for (TensorInfo t : store.all()) {
            String n = t.name();
            if (n.startsWith("model.layers.")) {
                int dot = n.indexOf('.', "model.layers.".length());
                try {
                    int layer = Integer.parseInt(n.substring("model.layers.".length(), dot < 0 ? n.length() : dot));
                    if (layer > highest) {
                        highest = layer;
                        example = n;
                    }
                } catch (NumberFormatException e) {
                    // not a numbered layer tensor; the loader ignores it like any unknown tensor
                }
            }
        }
        if (highest >= config.numLayers()) {
            throw new BadInputException("the checkpoint in " + store.dir() + " has tensors for layer " + highest + " (e.g. "
                    + example + ") but config.json says num_hidden_layers = " + config.numLayers()
                    + "; the config does not match the weights");
        }
        if (highest >= 0 && highest < config.numLayers() - 1) {
            throw new BadInputException("config.json says num_hidden_layers = " + config.numLayers() + " but the checkpoint in "
                    + store.dir() + " has tensors only up to layer " + highest + "; the config does not match the weights");
        }
    }

    private float[] optionalVector(String name, int n) {
        Optional<TensorInfo> t = store.find(name);
        return t.isPresent() ? vector(name, n) : null;
    }

    public ModelConfig config() {
        return config;
    }

    /** {@code [vocab, hidden]} */
    public WeightMatrix embedding() {
        return embedding;
    }

    /** {@code [vocab, hidden]}; the embedding itself when tied */
    public WeightMatrix lmHead() {
        return lmHead;
    }

    /** {@code [hidden]} */
    public float[] finalNorm() {
        return finalNorm;
    }

    public LayerWeights layer(int l) {
        return layers[l];
    }

    public int numLayers() {
        return layers.length;
    }
}

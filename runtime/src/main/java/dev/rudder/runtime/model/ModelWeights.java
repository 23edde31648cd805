package dev.rudder.runtime.model;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.io.TensorInfo;
import dev.rudder.runtime.io.TensorStore;
import dev.rudder.runtime.tensor.BlockQuantizer;
import dev.rudder.runtime.tensor.QuantizedMatrices;
import dev.rudder.runtime.tensor.WeightMatrices;
import dev.rudder.runtime.tensor.WeightMatrix;

import java.lang.foreign.MemorySegment;
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
    /** q/k rows in llama.cpp's adjacent-pair order: RoPE rotates pairs (2i, 2i+1) (see {@link TensorStore#qkRowsInPairOrder()}). */
    final boolean ropeAdjacentPairs;
    /** llama.cpp's {@code rope_freqs.weight} (Llama 3 frequency factors, [headDim/2]: divides each frequency), or null. */
    final float[] ropeFreqFactors;

    private final TensorStore store;
    private final WeightTransform transform;
    private final String quantizeTo;

    public ModelWeights(ModelConfig config, TensorStore store, WeightTransform transform) {
        this(config, store, transform, null);
    }

    /**
     * {@code quantizeTo} ("Q8_0", "Q4_0" or null): float matrices whose rows are whole blocks are quantized at load,
     * as {@code rudder quantize} would write them (the output matrix of Q4_0 as Q8_0); norms, biases and tensors a
     * transform touches stay float32.
     */
    public ModelWeights(ModelConfig config, TensorStore store, WeightTransform transform, String quantizeTo) {
        this.config = config;
        this.store = store;
        this.transform = transform;
        if (quantizeTo != null && !quantizeTo.equals("Q8_0") && !quantizeTo.equals("Q4_0")) {
            throw new BadInputException("cannot quantize to " + quantizeTo + " at load (supported: q8_0, q4_0)");
        }
        this.quantizeTo = quantizeTo;
        int h = config.hiddenSize();
        int qDim = config.numHeads() * config.headDim();
        int kvDim = config.numKvHeads() * config.headDim();
        int inter = config.intermediateSize();
        int vocab = config.vocabSize();
        ropeAdjacentPairs = store.qkRowsInPairOrder();
        ropeFreqFactors = store.contains("rope_freqs.weight") ? vector("rope_freqs.weight", config.headDim() / 2) : null;

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
            // a quantized tensor is dequantized exactly and merged in float32, and stays float32 so that a knob
            // change can re-merge in place (rows in the store's order: see TensorStore.qkRowsInPairOrder)
            return WeightMatrices.ofFloats(transform.apply(name, store.readFloats(t)), rows, cols);
        }
        if (t.dtype().isFloat32Widenable() && quantizeTo != null && cols % 32 == 0) {
            return quantize(t, name.equals("lm_head.weight") ? "Q8_0" : quantizeTo, rows, cols);
        }
        if (WeightMatrices.supports(t.dtype())) {
            return WeightMatrices.wrap(t.dtype(), t.data(), rows, cols);
        }
        throw new BadInputException("tensor " + name + " in " + t.file() + " has dtype " + t.dtype()
                + "; weights must be F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, IQ4_NL, IQ4_XS, Q2_K, Q3_K, Q4_K, Q5_K or Q6_K");
    }

    /** Quantizes {@code t} row by row into a heap segment (the blocks {@code rudder quantize} writes). */
    private static WeightMatrix quantize(TensorInfo t, String type, int rows, int cols) {
        long rowBytes = BlockQuantizer.bytes(type, cols);
        if (rowBytes * rows > Integer.MAX_VALUE - 8) {
            throw new BadInputException("tensor " + t.name() + " is too large to quantize at load");
        }
        MemorySegment q = MemorySegment.ofArray(new byte[(int) (rowBytes * rows)]);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            TensorStore.readFloats(t, (long) r * cols, row, 0, cols);
            BlockQuantizer.quantize(type, row, 0, cols, q, r * rowBytes);
        }
        return QuantizedMatrices.wrap(type, q, rows, cols);
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

    /** True when q/k rows are in llama.cpp's adjacent-pair order: RoPE must rotate pairs (2i, 2i+1). */
    public boolean ropeAdjacentPairs() {
        return ropeAdjacentPairs;
    }

    /** llama.cpp's Llama 3 frequency factors ({@code rope_freqs.weight}, [headDim/2]), or null. */
    public float[] ropeFreqFactors() {
        return ropeFreqFactors;
    }

    public int numLayers() {
        return layers.length;
    }
}

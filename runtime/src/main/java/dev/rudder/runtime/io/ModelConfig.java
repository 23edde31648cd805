package dev.rudder.runtime.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rudder.runtime.BadInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The shape and hyper-parameters of a LLaMA-family model, read from a Hugging Face {@code config.json}.
 * Architectures are data: {@code LlamaForCausalLM}, {@code MistralForCausalLM} and {@code Qwen2ForCausalLM}
 * differ only in these fields (Qwen2 always has q/k/v biases).
 *
 * @param architecture       e.g. {@code LlamaForCausalLM}
 * @param modelType          e.g. {@code llama}
 * @param headDim            per-head size; may differ from {@code hiddenSize / numHeads} (Mistral {@code head_dim})
 * @param ropeScaling        null if none
 * @param attentionBias      q/k/v (and for Llama {@code attention_bias}, o) projections have biases
 * @param bosTokenId         null if the config names none
 * @param eosTokenIds        empty if none
 * @param torchDtype         {@code torch_dtype} (or {@code dtype}), null if absent
 */
public record ModelConfig(String architecture, String modelType, int hiddenSize, int numLayers, int numHeads,
                          int numKvHeads, int headDim, int intermediateSize, int vocabSize, double rmsNormEps,
                          double ropeTheta, RopeScaling ropeScaling, int maxPositionEmbeddings,
                          boolean tieWordEmbeddings, boolean attentionBias, boolean mlpBias, Integer bosTokenId,
                          List<Integer> eosTokenIds, String torchDtype) {

    public static final String LLAMA = "LlamaForCausalLM";
    public static final String MISTRAL = "MistralForCausalLM";
    public static final String QWEN2 = "Qwen2ForCausalLM";
    public static final Set<String> SUPPORTED_ARCHITECTURES = Set.of(LLAMA, MISTRAL, QWEN2);

    public ModelConfig {
        eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
    }

    /** Reads and validates {@code configJson}; every problem is a {@link BadInputException} naming file and field. */
    public static ModelConfig read(Path configJson) {
        if (!Files.exists(configJson)) {
            throw new BadInputException("config file " + configJson + " does not exist");
        }
        if (Files.isDirectory(configJson)) {
            Path inner = configJson.resolve("config.json");
            if (Files.isRegularFile(inner)) {
                configJson = inner;
            } else {
                throw new BadInputException("no config.json in " + configJson);
            }
        }
        JsonNode root;
        try {
            root = SafeTensorsFile.json().readTree(configJson.toFile());
        } catch (JsonProcessingException e) {
            throw new BadInputException(configJson + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new BadInputException("cannot read " + configJson + ": " + e.getMessage(), e);
        }
        if (root == null || root.isMissingNode()) {
            throw new BadInputException(configJson + " is empty, expected a JSON object");
        }
        return fromJson(root, configJson.toString());
    }

    /** Parses and validates a config already read as JSON; {@code sourceName} is used in error messages. */
    public static ModelConfig fromJson(JsonNode node, String sourceName) {
        Fields f = new Fields(node, sourceName);
        String architecture = f.architecture();
        String modelType = f.text("model_type", switch (architecture) {
            case MISTRAL -> "mistral";
            case QWEN2 -> "qwen2";
            default -> "llama";
        });
        int hidden = f.positiveInt("hidden_size", null);
        int layers = f.positiveInt("num_hidden_layers", null);
        int heads = f.positiveInt("num_attention_heads", null);
        int kvHeads = f.positiveInt("num_key_value_heads", heads);
        if (kvHeads > heads || heads % kvHeads != 0) {
            throw f.bad("num_key_value_heads", "num_key_value_heads " + kvHeads
                    + " must divide num_attention_heads " + heads);
        }
        int headDim;
        if (f.get("head_dim") == null) {
            if (hidden % heads != 0) {
                throw f.bad("num_attention_heads", "hidden_size " + hidden + " is not divisible by num_attention_heads "
                        + heads + " (and no head_dim is given)");
            }
            headDim = hidden / heads;
        } else {
            headDim = f.positiveInt("head_dim", null);
        }
        if (headDim % 2 != 0) {
            throw f.bad("head_dim", "head_dim " + headDim + " must be even for rotary embeddings");
        }
        int intermediate = f.positiveInt("intermediate_size", null);
        int vocab = f.positiveInt("vocab_size", null);
        double eps = f.positiveDouble("rms_norm_eps", 1e-6);
        double theta = f.positiveDouble("rope_theta", 10000.0);
        int defaultMaxPos = switch (architecture) {
            case MISTRAL -> 32768;
            case QWEN2 -> 32768;
            default -> 2048;
        };
        int maxPos = f.positiveInt("max_position_embeddings", defaultMaxPos);
        RopeScaling scaling = f.ropeScaling();
        boolean tie = f.bool("tie_word_embeddings", false);
        boolean attnBias = architecture.equals(QWEN2) || f.bool("attention_bias", false);
        boolean mlpBias = f.bool("mlp_bias", false);
        Integer bos = f.optionalTokenId("bos_token_id");
        List<Integer> eos = f.tokenIds("eos_token_id");
        // special tokens index the embedding and the logits: one outside the vocabulary is a broken config
        if (bos != null && bos >= vocab) {
            throw f.bad("bos_token_id", "bos_token_id " + bos + " is outside the vocabulary (vocab_size " + vocab + ")");
        }
        for (int id : eos) {
            if (id >= vocab) {
                throw f.bad("eos_token_id", "eos_token_id " + id + " is outside the vocabulary (vocab_size " + vocab + ")");
            }
        }
        String dtype = f.text("torch_dtype", null);
        if (dtype == null) {
            dtype = f.text("dtype", null);
        }
        String act = f.text("hidden_act", "silu");
        if (!act.equals("silu") && !act.equals("swish")) {
            throw f.bad("hidden_act", "hidden_act \"" + act + "\" is not supported (only silu)");
        }
        return new ModelConfig(architecture, modelType, hidden, layers, heads, kvHeads, headDim, intermediate, vocab,
                eps, theta, scaling, maxPos, tie, attnBias, mlpBias, bos, eos, dtype);
    }

    /** Query projection output size: {@code numHeads * headDim}. */
    public int qDim() {
        return numHeads * headDim;
    }

    /** Key/value projection output size: {@code numKvHeads * headDim}. */
    public int kvDim() {
        return numKvHeads * headDim;
    }

    /** Query heads per KV head (GQA group size). */
    public int kvGroupSize() {
        return numHeads / numKvHeads;
    }

    /**
     * Number of parameters the tensors of this configuration hold (embedding, layers, final norm and,
     * when untied, {@code lm_head}; biases included where configured).
     */
    public long parameterCount() {
        long h = hiddenSize, q = qDim(), kv = kvDim(), im = intermediateSize, v = vocabSize;
        long perLayer = h * q + 2 * h * kv + q * h + 3 * h * im + 2 * h;
        if (attentionBias) {
            perLayer += q + 2 * kv;
            if (!QWEN2.equals(architecture)) {
                perLayer += h; // Llama attention_bias also biases o_proj
            }
        }
        if (mlpBias) {
            perLayer += 2 * im + h;
        }
        return v * h + numLayers * perLayer + h + (tieWordEmbeddings ? 0 : v * h);
    }

    /** A Hugging Face style {@code config.json} for this configuration (pretty-printed). */
    public String toJson() {
        ObjectNode o = SafeTensorsFile.json().createObjectNode();
        o.putArray("architectures").add(architecture);
        o.put("model_type", modelType);
        o.put("hidden_size", hiddenSize);
        o.put("intermediate_size", intermediateSize);
        o.put("num_hidden_layers", numLayers);
        o.put("num_attention_heads", numHeads);
        o.put("num_key_value_heads", numKvHeads);
        o.put("head_dim", headDim);
        o.put("hidden_act", "silu");
        o.put("rms_norm_eps", rmsNormEps);
        o.put("rope_theta", ropeTheta);
        if (ropeScaling == null) {
            o.putNull("rope_scaling");
        } else {
            ObjectNode r = o.putObject("rope_scaling");
            r.put("rope_type", ropeScaling.type());
            r.put("factor", ropeScaling.factor());
            if (ropeScaling.isLlama3()) {
                r.put("low_freq_factor", ropeScaling.lowFreqFactor());
                r.put("high_freq_factor", ropeScaling.highFreqFactor());
                r.put("original_max_position_embeddings", ropeScaling.originalMaxPositionEmbeddings());
            }
        }
        o.put("max_position_embeddings", maxPositionEmbeddings);
        o.put("vocab_size", vocabSize);
        o.put("tie_word_embeddings", tieWordEmbeddings);
        if (bosTokenId == null) {
            o.putNull("bos_token_id");
        } else {
            o.put("bos_token_id", bosTokenId);
        }
        if (eosTokenIds.isEmpty()) {
            o.putNull("eos_token_id");
        } else if (eosTokenIds.size() == 1) {
            o.put("eos_token_id", eosTokenIds.getFirst());
        } else {
            ArrayNode a = o.putArray("eos_token_id");
            eosTokenIds.forEach(a::add);
        }
        o.put("attention_bias", attentionBias);
        o.put("mlp_bias", mlpBias);
        if (torchDtype != null) {
            o.put("torch_dtype", torchDtype);
        }
        try {
            return SafeTensorsFile.json().writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Field access with error messages naming the file and the field. */
    private record Fields(JsonNode node, String source) {

        Fields {
            if (!node.isObject()) {
                throw new BadInputException(source + " is not a JSON object");
            }
        }

        BadInputException bad(String field, String msg) {
            return new BadInputException(source + ": field " + field + ": " + msg);
        }

        JsonNode get(String field) {
            JsonNode v = node.get(field);
            return v == null || v.isNull() ? null : v;
        }

        String architecture() {
            JsonNode a = get("architectures");
            String arch = null;
            if (a != null) {
                if (a.isArray() && !a.isEmpty() && a.get(0).isTextual()) {
                    arch = a.get(0).asText();
                } else if (a.isTextual()) {
                    arch = a.asText();
                } else {
                    throw bad("architectures", "expected a list of architecture names, got " + a);
                }
            } else {
                JsonNode mt = get("model_type");
                if (mt != null && mt.isTextual()) {
                    arch = switch (mt.asText()) {
                        case "llama" -> LLAMA;
                        case "mistral" -> MISTRAL;
                        case "qwen2" -> QWEN2;
                        default -> null;
                    };
                }
                if (arch == null) {
                    throw bad("architectures", "missing (and model_type does not name llama, mistral or qwen2)");
                }
            }
            if (!SUPPORTED_ARCHITECTURES.contains(arch)) {
                throw bad("architectures", "unsupported architecture " + arch
                        + " (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM)");
            }
            return arch;
        }

        String text(String field, String dflt) {
            JsonNode v = get(field);
            if (v == null) {
                return dflt;
            }
            if (!v.isTextual()) {
                throw bad(field, "expected a string, got " + v);
            }
            return v.asText();
        }

        /** {@code dflt == null}: required. */
        int positiveInt(String field, Integer dflt) {
            JsonNode v = get(field);
            if (v == null) {
                if (dflt == null) {
                    throw bad(field, "missing");
                }
                return dflt;
            }
            long x;
            if (v.isIntegralNumber() && v.canConvertToLong()) {
                x = v.asLong();
            } else if (v.isFloatingPointNumber() && v.asDouble() == Math.rint(v.asDouble()) && Math.abs(v.asDouble()) < 1e15) {
                x = (long) v.asDouble();
            } else {
                throw bad(field, "expected a positive integer, got " + v);
            }
            if (x <= 0 || x > Integer.MAX_VALUE) {
                throw bad(field, "expected a positive integer, got " + v);
            }
            return (int) x;
        }

        double positiveDouble(String field, double dflt) {
            JsonNode v = get(field);
            if (v == null) {
                return dflt;
            }
            if (!v.isNumber() || !(v.asDouble() > 0) || Double.isInfinite(v.asDouble())) {
                throw bad(field, "expected a positive number, got " + v);
            }
            return v.asDouble();
        }

        boolean bool(String field, boolean dflt) {
            JsonNode v = get(field);
            if (v == null) {
                return dflt;
            }
            if (!v.isBoolean()) {
                throw bad(field, "expected true or false, got " + v);
            }
            return v.asBoolean();
        }

        Integer optionalTokenId(String field) {
            JsonNode v = get(field);
            if (v == null) {
                return null;
            }
            if (v.isArray() && v.size() == 1) {
                v = v.get(0);
            }
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0) {
                throw bad(field, "expected a token id (non-negative integer), got " + v);
            }
            return v.asInt();
        }

        List<Integer> tokenIds(String field) {
            JsonNode v = get(field);
            List<Integer> out = new ArrayList<>();
            if (v == null) {
                return out;
            }
            if (v.isArray()) {
                for (JsonNode e : v) {
                    if (!e.isIntegralNumber() || !e.canConvertToInt() || e.asInt() < 0) {
                        throw bad(field, "expected token ids (non-negative integers), got " + v);
                    }
                    out.add(e.asInt());
                }
            } else if (v.isIntegralNumber() && v.canConvertToInt() && v.asInt() >= 0) {
                out.add(v.asInt());
            } else {
                throw bad(field, "expected a token id or a list of token ids, got " + v);
            }
            return out;
        }

        RopeScaling ropeScaling() {
            JsonNode r = get("rope_scaling");
            if (r == null) {
                return null;
            }
            if (!r.isObject()) {
                throw bad("rope_scaling", "expected an object or null, got " + r);
            }
            JsonNode t = r.get("rope_type");
            if (t == null || t.isNull()) {
                t = r.get("type");
            }
            if (t == null || !t.isTextual()) {
                throw bad("rope_scaling", "missing rope_type (or type)");
            }
            String type = t.asText();
            switch (type) {
                case "default":
                    return null;
                case "linear": {
                    double factor = num(r, "factor");
                    return RopeScaling.linear(factor);
                }
                case "llama3": {
                    double factor = num(r, "factor");
                    double low = num(r, "low_freq_factor");
                    double high = num(r, "high_freq_factor");
                    double orig = num(r, "original_max_position_embeddings");
                    if (!(high > low)) {
                        throw bad("rope_scaling.high_freq_factor", "high_freq_factor " + high
                                + " must be larger than low_freq_factor " + low);
                    }
                    if (orig != Math.rint(orig) || orig > Integer.MAX_VALUE) {
                        throw bad("rope_scaling.original_max_position_embeddings", "expected a positive integer, got " + orig);
                    }
                    return RopeScaling.llama3(factor, low, high, (int) orig);
                }
                default:
                    throw bad("rope_scaling", "rope_scaling type \"" + type
                            + "\" is not supported (supported: llama3, linear)");
            }
        }

        private double num(JsonNode r, String key) {
            JsonNode v = r.get(key);
            if (v == null || !v.isNumber() || !(v.asDouble() > 0) || Double.isInfinite(v.asDouble())) {
                throw bad("rope_scaling." + key, v == null ? "missing" : "expected a positive number, got " + v);
            }
            return v.asDouble();
        }
    }
}

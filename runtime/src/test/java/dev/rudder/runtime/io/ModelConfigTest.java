package dev.rudder.runtime.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rudder.runtime.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.*;

class ModelConfigTest {

    static final ObjectMapper M = new ObjectMapper();

    @TempDir
    Path tmp;

    static ObjectNode base() {
        ObjectNode o = M.createObjectNode();
        o.putArray("architectures").add("LlamaForCausalLM");
        o.put("hidden_size", 64);
        o.put("num_hidden_layers", 2);
        o.put("num_attention_heads", 4);
        o.put("intermediate_size", 128);
        o.put("vocab_size", 100);
        return o;
    }

    static ModelConfig parse(Consumer<ObjectNode> edit) {
        ObjectNode o = base();
        edit.accept(o);
        return ModelConfig.fromJson(o, "cfg.json");
    }

    static void bad(Consumer<ObjectNode> edit, String... fragments) {
        BadInputException e = assertThrows(BadInputException.class, () -> parse(edit));
        assertTrue(e.getMessage().contains("cfg.json"), e.getMessage());
        for (String s : fragments) {
            assertTrue(e.getMessage().contains(s), "message should contain '" + s + "': " + e.getMessage());
        }
    }

    @Test
    void defaults() {
        ModelConfig c = parse(o -> { });
        assertEquals("llama", c.modelType());
        assertEquals(4, c.numKvHeads(), "kv heads default to heads");
        assertEquals(16, c.headDim(), "head_dim defaults to hidden / heads");
        assertEquals(1e-6, c.rmsNormEps());
        assertEquals(10000.0, c.ropeTheta());
        assertNull(c.ropeScaling());
        assertFalse(c.tieWordEmbeddings());
        assertFalse(c.attentionBias());
        assertFalse(c.mlpBias());
        assertNull(c.bosTokenId());
        assertEquals(List.of(), c.eosTokenIds());
        assertNull(c.torchDtype());
    }

    @Test
    void eosIntOrList() {
        assertEquals(List.of(2), parse(o -> o.put("eos_token_id", 2)).eosTokenIds());
        assertEquals(List.of(128001, 128008, 128009),
                parse(o -> o.put("vocab_size", 128256).putArray("eos_token_id").add(128001).add(128008).add(128009)).eosTokenIds());
        bad(o -> o.put("eos_token_id", "two"), "eos_token_id");
    }

    @Test
    void specialTokenIdsOutsideTheVocabularyAreErrors() {
        bad(o -> o.put("eos_token_id", 100), "field eos_token_id", "eos_token_id 100 is outside the vocabulary (vocab_size 100)");
        bad(o -> o.putArray("eos_token_id").add(2).add(2_000_000_000), "eos_token_id 2000000000 is outside the vocabulary");
        bad(o -> o.put("bos_token_id", 100), "field bos_token_id", "outside the vocabulary");
        assertEquals(99, parse(o -> o.put("bos_token_id", 99)).bosTokenId());
    }

    @Test
    void ropeScalingVariants() {
        ModelConfig l3 = parse(o -> {
            ObjectNode r = o.putObject("rope_scaling");
            r.put("rope_type", "llama3").put("factor", 32.0).put("low_freq_factor", 1.0)
                    .put("high_freq_factor", 4.0).put("original_max_position_embeddings", 8192);
        });
        assertEquals(RopeScaling.llama3(32, 1, 4, 8192), l3.ropeScaling());
        ModelConfig lin = parse(o -> o.putObject("rope_scaling").put("type", "linear").put("factor", 2.0));
        assertEquals(RopeScaling.linear(2), lin.ropeScaling());
        assertNull(parse(o -> o.putObject("rope_scaling").put("rope_type", "default")).ropeScaling());
        bad(o -> o.putObject("rope_scaling").put("type", "yarn").put("factor", 4.0), "rope_scaling", "yarn");
        bad(o -> o.putObject("rope_scaling").put("rope_type", "llama3").put("factor", 8.0), "low_freq_factor");
        bad(o -> o.putObject("rope_scaling").put("type", "linear"), "rope_scaling.factor");
    }

    @Test
    void architectures() {
        ModelConfig q = parse(o -> o.putArray("architectures").add("Qwen2ForCausalLM"));
        assertTrue(q.attentionBias(), "Qwen2 implies q/k/v bias");
        assertEquals("qwen2", q.modelType());
        assertEquals(ModelConfig.MISTRAL, parse(o -> o.putArray("architectures").add("MistralForCausalLM")).architecture());
        assertTrue(parse(o -> o.put("attention_bias", true)).attentionBias());
        bad(o -> o.putArray("architectures").add("GPT2LMHeadModel"), "architectures", "GPT2LMHeadModel", "unsupported");
        // missing architectures: inferred from model_type, else an error
        assertEquals(ModelConfig.QWEN2, parse(o -> { o.remove("architectures"); o.put("model_type", "qwen2"); }).architecture());
        bad(o -> o.remove("architectures"), "architectures", "missing");
        bad(o -> { o.remove("architectures"); o.put("model_type", "gpt2"); }, "architectures");
    }

    @Test
    void missingAndNonsensicalFields() {
        for (String f : List.of("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size")) {
            bad(o -> o.remove(f), f, "missing");
            bad(o -> o.put(f, 0), f, "positive integer");
            bad(o -> o.put(f, "64"), f);
        }
        bad(o -> o.put("num_key_value_heads", 3), "num_key_value_heads", "must divide");
        bad(o -> o.put("num_key_value_heads", 8), "num_key_value_heads");
        bad(o -> o.put("num_attention_heads", 5), "num_attention_heads", "not divisible");
        bad(o -> o.put("head_dim", 15), "head_dim", "even");
        bad(o -> o.put("head_dim", -16), "head_dim");
        bad(o -> o.put("rms_norm_eps", -1), "rms_norm_eps");
        bad(o -> o.put("rope_theta", 0), "rope_theta");
        bad(o -> o.put("tie_word_embeddings", "yes"), "tie_word_embeddings");
        bad(o -> o.put("hidden_act", "gelu"), "hidden_act");
        // head_dim given explicitly may differ from hidden / heads (Mistral style)
        ModelConfig c = parse(o -> { o.put("num_attention_heads", 5); o.put("head_dim", 32); o.put("num_key_value_heads", 1); });
        assertEquals(160, c.qDim());
        assertEquals(32, c.kvDim());
        assertEquals(64, parse(o -> o.put("hidden_size", 64.0)).hiddenSize(), "64.0 is accepted as an integer");
    }

    @Test
    void readErrorsNameTheFile() throws IOException {
        Path missing = tmp.resolve("config.json");
        BadInputException e = assertThrows(BadInputException.class, () -> ModelConfig.read(missing));
        assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("does not exist"));
        Files.writeString(missing, "this is { not json");
        e = assertThrows(BadInputException.class, () -> ModelConfig.read(missing));
        assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("not valid JSON"), e.getMessage());
        Files.writeString(missing, "");
        e = assertThrows(BadInputException.class, () -> ModelConfig.read(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        Files.writeString(missing, "[1,2]");
        e = assertThrows(BadInputException.class, () -> ModelConfig.read(missing));
        assertTrue(e.getMessage().contains("not a JSON object"), e.getMessage());
        Files.writeString(missing, base().put("num_key_value_heads", 3).toString());
        e = assertThrows(BadInputException.class, () -> ModelConfig.read(missing));
        assertTrue(e.getMessage().contains(missing + ": field num_key_value_heads"), e.getMessage());
    }

    @Test
    void toJsonRoundTrips() throws IOException {
        ModelConfig c = new ModelConfig("LlamaForCausalLM", "llama", 2048, 16, 32, 8, 64, 8192, 128256, 1e-5, 500000,
                RopeScaling.llama3(32, 1, 4, 8192), 131072, true, false, false, 128000, List.of(128001, 128009), "bfloat16");
        Path p = tmp.resolve("config.json");
        Files.writeString(p, c.toJson());
        assertEquals(c, ModelConfig.read(p));
        ModelConfig q = new ModelConfig("Qwen2ForCausalLM", "qwen2", 96, 2, 6, 2, 16, 256, 8192, 1e-6, 1e6,
                RopeScaling.linear(2), 32768, false, true, false, null, List.of(), null);
        Files.writeString(p, q.toJson());
        assertEquals(q, ModelConfig.read(p));
        // read() also accepts the folder
        assertEquals(q, ModelConfig.read(tmp));
    }

    @Test
    void llama3InverseFrequencies() {
        double[] plain = RopeScaling.inverseFrequencies(16, 500000, null);
        double[] scaled = RopeScaling.inverseFrequencies(16, 500000, RopeScaling.llama3(8, 1, 4, 8192));
        assertEquals(plain[0], scaled[0], 0, "high frequency band unchanged");
        assertEquals(plain[7] / 8, scaled[7], 1e-18, "low frequency band divided by factor");
        boolean medium = false;
        for (int i = 0; i < 8; i++) {
            medium |= scaled[i] != plain[i] && Math.abs(scaled[i] - plain[i] / 8) > 1e-15;
        }
        assertTrue(medium, "tiny-llama3 shape hits the smoothed band");
    }
}

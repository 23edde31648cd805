package dev.rudder.runtime.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Every checkpoint in shared/models: config reads, every tensor maps, expected shapes. */
class SharedCheckpointsTest {

    static final Path SHARED = Path.of(System.getProperty("rudder.shared", "../../shared"));

    static Path model(String name) {
        return SHARED.resolve("models").resolve(name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-f32", "tiny-llama3-bf16", "tiny-qwen2-f16", "tiny-mistral-sharded",
            "aidreams260K-hf", "rudder-chat/aligned", "rudder-chat/base", "rudder-chat/target"})
    void everyCheckpointLoadsWithExpectedShapes(String name) {
        Path dir = ModelDirectory.resolve(model(name));
        ModelConfig c = ModelConfig.read(dir.resolve("config.json"));
        try (TensorStore s = TensorStore.open(dir)) {
            long h = c.hiddenSize();
            s.require("model.embed_tokens.weight", c.vocabSize(), h);
            s.require("model.norm.weight", h);
            for (int l = 0; l < c.numLayers(); l++) {
                String p = "model.layers." + l + ".";
                s.require(p + "input_layernorm.weight", h);
                s.require(p + "post_attention_layernorm.weight", h);
                s.require(p + "self_attn.q_proj.weight", c.qDim(), h);
                s.require(p + "self_attn.k_proj.weight", c.kvDim(), h);
                s.require(p + "self_attn.v_proj.weight", c.kvDim(), h);
                s.require(p + "self_attn.o_proj.weight", h, c.qDim());
                s.require(p + "mlp.gate_proj.weight", c.intermediateSize(), h);
                s.require(p + "mlp.up_proj.weight", c.intermediateSize(), h);
                s.require(p + "mlp.down_proj.weight", h, c.intermediateSize());
                if (c.attentionBias()) {
                    s.require(p + "self_attn.q_proj.bias", c.qDim());
                    s.require(p + "self_attn.k_proj.bias", c.kvDim());
                    s.require(p + "self_attn.v_proj.bias", c.kvDim());
                }
            }
            assertEquals(!c.tieWordEmbeddings(), s.find("lm_head.weight").isPresent(), "lm_head presence vs tie");
            long params = 0;
            for (TensorInfo t : s.all()) {
                params += t.elementCount();
                assertEquals(t.elementCount() * t.dtype().byteSize(), t.data().byteSize());
                float[] f = s.readFloats(t);
                for (float x : f) {
                    assertTrue(Float.isFinite(x), t.name());
                }
            }
            assertEquals(c.parameterCount(), params, "parameterCount() matches the tensors");
        }
    }

    @Test
    void configsReadAsDocumented() {
        ModelConfig llama = ModelConfig.read(model("tiny-llama-f32").resolve("config.json"));
        assertEquals(ModelConfig.LLAMA, llama.architecture());
        assertEquals(64, llama.hiddenSize());
        assertEquals(4, llama.numHeads());
        assertEquals(2, llama.numKvHeads());
        assertEquals(16, llama.headDim());
        assertEquals(172, llama.intermediateSize());
        assertEquals(49152, llama.vocabSize());
        assertTrue(llama.tieWordEmbeddings());
        assertNull(llama.ropeScaling());
        assertEquals(1, llama.bosTokenId());
        assertEquals(List.of(2), llama.eosTokenIds());
        assertEquals("float32", llama.torchDtype());

        ModelConfig l3 = ModelConfig.read(model("tiny-llama3-bf16").resolve("config.json"));
        assertEquals(new RopeScaling("llama3", 8.0, 1.0, 4.0, 8192), l3.ropeScaling());
        assertEquals(500000.0, l3.ropeTheta());
        assertFalse(l3.tieWordEmbeddings());
        assertEquals(3, l3.numLayers());

        ModelConfig qwen = ModelConfig.read(model("tiny-qwen2-f16").resolve("config.json"));
        assertEquals(ModelConfig.QWEN2, qwen.architecture());
        assertTrue(qwen.attentionBias(), "Qwen2 implies q/k/v bias");
        assertEquals(16, qwen.headDim(), "default head_dim = hidden / heads");
        assertEquals(1e-6, qwen.rmsNormEps());
        assertEquals(1e6, qwen.ropeTheta());

        ModelConfig mistral = ModelConfig.read(model("tiny-mistral-sharded").resolve("config.json"));
        assertEquals(ModelConfig.MISTRAL, mistral.architecture());
        assertEquals(32, mistral.headDim());
        assertEquals(128, mistral.qDim());
        assertFalse(mistral.attentionBias());
    }

    @Test
    void shardedCheckpointUsesIndex() {
        try (TensorStore s = TensorStore.open(model("tiny-mistral-sharded"))) {
            assertEquals(2, s.files().size());
            assertTrue(s.require("lm_head.weight").file().getFileName().toString().startsWith("model-00002"));
            assertTrue(s.require("model.embed_tokens.weight").file().getFileName().toString().startsWith("model-00001"));
            assertEquals(4 * 9 + 3, s.all().size());
            assertEquals(5179648, s.totalBytes(), "index total_size");
        }
    }

    @Test
    void goldenLogitsFilesRead() throws Exception {
        try (var dirs = Files.list(SHARED.resolve("golden/logits"))) {
            for (Path d : dirs.filter(Files::isDirectory).toList()) {
                try (SafeTensorsFile f = SafeTensorsFile.open(d.resolve("logits.safetensors"))) {
                    TensorInfo last = f.tensor("p7.last");
                    TensorInfo all = f.tensor("p7.all");
                    long v = last.shape()[0];
                    assertArrayEquals(new long[]{7, v}, all.shape());
                    assertEquals(DType.F32, all.dtype());
                    float[] a = all.toFloats();
                    float[] l = last.toFloats();
                    // row 6 of p7.all is the last position
                    for (int i = 0; i < v; i++) {
                        assertEquals(l[i], a[(int) (6 * v + i)], 1e-6, d + " p7 last row");
                    }
                    assertTrue(f.metadata().get("model").startsWith("models/"));
                    f.tensor("p1.last");
                    f.tensor("p33.last");
                }
            }
        }
    }
}

package dev.rudder.runtime.io;

import dev.rudder.runtime.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class RandomCheckpointTest {

    @TempDir
    Path tmp;

    @Test
    void namedShapesAreExact() {
        ModelConfig s = RandomCheckpoint.config("smollm2-135m", DType.BF16);
        assertEquals(576, s.hiddenSize());
        assertEquals(30, s.numLayers());
        assertEquals(9, s.numHeads());
        assertEquals(3, s.numKvHeads());
        assertEquals(64, s.headDim());
        assertEquals(1536, s.intermediateSize());
        assertEquals(49152, s.vocabSize());
        assertTrue(s.tieWordEmbeddings());
        assertEquals(100000, s.ropeTheta());
        assertEquals(8192, s.maxPositionEmbeddings());
        assertEquals("bfloat16", s.torchDtype());
        assertEquals(134_515_008L, s.parameterCount(), "SmolLM2-135M has 134,515,008 parameters");

        ModelConfig l1 = RandomCheckpoint.config("llama-3.2-1b", DType.BF16);
        assertEquals(2048, l1.hiddenSize());
        assertEquals(16, l1.numLayers());
        assertEquals(32, l1.numHeads());
        assertEquals(8, l1.numKvHeads());
        assertEquals(8192, l1.intermediateSize());
        assertEquals(128256, l1.vocabSize());
        assertTrue(l1.tieWordEmbeddings());
        assertEquals(500000, l1.ropeTheta());
        assertEquals(RopeScaling.llama3(32, 1, 4, 8192), l1.ropeScaling());
        assertEquals(1_235_814_400L, l1.parameterCount(), "Llama-3.2-1B has 1,235,814,400 parameters");

        ModelConfig l2 = RandomCheckpoint.config("llama-2-7b", DType.F16);
        assertEquals(4096, l2.hiddenSize());
        assertEquals(32, l2.numLayers());
        assertEquals(32, l2.numKvHeads());
        assertEquals(11008, l2.intermediateSize());
        assertEquals(32000, l2.vocabSize());
        assertFalse(l2.tieWordEmbeddings());
        assertEquals(6_738_415_616L, l2.parameterCount(), "Llama-2-7B has 6,738,415,616 parameters");
        assertEquals(2 * 6_738_415_616L, RandomCheckpoint.weightBytes(l2, DType.BF16));

        assertThrows(BadInputException.class, () -> RandomCheckpoint.config("gpt-5", DType.BF16));
        assertThrows(BadInputException.class, () -> RandomCheckpoint.config("tiny", DType.I8));
    }

    @Test
    void tinyModelLoadsWithExpectedStatistics() throws IOException {
        Path out = tmp.resolve("tiny");
        RandomCheckpoint.write(out, "tiny", DType.F32, 42, null);
        assertTrue(Files.readString(out.resolve("README.md")).contains("random"));
        ModelConfig c = ModelConfig.read(out.resolve("config.json"));
        assertEquals(RandomCheckpoint.config("tiny", DType.F32), c);
        try (TensorStore s = TensorStore.open(ModelDirectory.resolve(out))) {
            long params = 0;
            for (TensorInfo t : s.all()) {
                params += t.elementCount();
            }
            assertEquals(c.parameterCount(), params);
            for (float x : s.readFloats(s.require("model.norm.weight", 64))) {
                assertEquals(1f, x);
            }
            assertStd(s.readFloats(s.require("model.layers.1.self_attn.q_proj.weight", 64, 64)), 1 / Math.sqrt(64));
            assertStd(s.readFloats(s.require("model.layers.0.mlp.down_proj.weight", 64, 192)), 1 / Math.sqrt(192));
            assertStd(s.readFloats(s.require("model.embed_tokens.weight", 1024, 64)), 2 / Math.sqrt(64));
            assertEquals("42", s.files().getFirst().metadata().get("rudder.seed"));
        }
    }

    static void assertStd(float[] v, double expected) {
        double sum = 0, sq = 0;
        for (float x : v) {
            sum += x;
            sq += (double) x * x;
        }
        double mean = sum / v.length;
        double std = Math.sqrt(sq / v.length - mean * mean);
        assertEquals(0, mean, 4 * expected / Math.sqrt(v.length), "mean");
        assertEquals(expected, std, expected * 0.05, "std");
    }

    @Test
    void deterministicAndIndependentOfThreads() throws IOException {
        ModelConfig c = RandomCheckpoint.config("tiny", DType.BF16);
        RandomCheckpoint.write(tmp.resolve("a"), c, DType.BF16, 7, 1, null, "tiny");
        RandomCheckpoint.write(tmp.resolve("b"), c, DType.BF16, 7, 3, null, "tiny");
        RandomCheckpoint.write(tmp.resolve("c"), c, DType.BF16, 8, 2, null, "tiny");
        byte[] a = Files.readAllBytes(tmp.resolve("a/model.safetensors"));
        assertArrayEquals(a, Files.readAllBytes(tmp.resolve("b/model.safetensors")));
        assertFalse(java.util.Arrays.equals(a, Files.readAllBytes(tmp.resolve("c/model.safetensors"))));
    }

    @Test
    void multiChunkTensorsAndProgress() throws IOException {
        // vocab 20000 x hidden 64 = 1.28M elements: two chunks for the embedding
        ModelConfig c = new ModelConfig("LlamaForCausalLM", "llama", 64, 1, 4, 4, 16, 128, 20000, 1e-5, 10000, null,
                512, false, true, true, 1, java.util.List.of(2), "float16");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Path out = tmp.resolve("m");
        RandomCheckpoint.write(out, c, DType.F16, 1, 2, new PrintStream(err, true), null);
        try (TensorStore s = TensorStore.open(out)) {
            assertStd(s.readFloats(s.require("model.embed_tokens.weight", 20000, 64)), 2 / Math.sqrt(64));
            assertStd(s.readFloats(s.require("lm_head.weight", 20000, 64)), 2 / Math.sqrt(64));
            s.require("model.layers.0.self_attn.o_proj.bias", 64);
            s.require("model.layers.0.mlp.down_proj.bias", 64);
            assertEquals(c.parameterCount(), s.all().stream().mapToLong(TensorInfo::elementCount).sum());
        }
        assertEquals("", err.toString(), "small models write no progress");
    }

    @Test
    void ensureSkipsExistingModel() throws IOException {
        Path out = tmp.resolve("e");
        RandomCheckpoint.ensure(out, "tiny", DType.BF16, 3, null);
        long t = Files.getLastModifiedTime(out.resolve("model.safetensors")).toMillis();
        Files.setLastModifiedTime(out.resolve("model.safetensors"), java.nio.file.attribute.FileTime.fromMillis(t - 100_000));
        RandomCheckpoint.ensure(out, "tiny", DType.BF16, 3, null);
        assertEquals(t - 100_000, Files.getLastModifiedTime(out.resolve("model.safetensors")).toMillis(), "not rewritten");
        RandomCheckpoint.ensure(out, "tiny", DType.BF16, 4, null);
        try (SafeTensorsFile f = SafeTensorsFile.open(out.resolve("model.safetensors"))) {
            assertEquals("4", f.metadata().get("rudder.seed"));
        }
    }
}

package dev.rudder.runtime.io.gguf;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.SharedData;
import dev.rudder.runtime.model.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Broken GGUF model files fail in {@link Model#load} (before any generation) with a {@link BadInputException} that names
 * the file and the tensor or metadata key at fault. The files are llama.cpp's Q8_0 model with bytes changed.
 */
class GgufModelBadInputTest {
    static final Path GOOD = SharedData.model("tiny-quant-gguf").resolve("tiny-quant-Q8_0.gguf");

    @TempDir
    Path tmp;

    static byte[] good() throws Exception {
        return Files.readAllBytes(GOOD);
    }

    /** Byte index just after the first occurrence of {@code s} (a name or value stored as a GGUF string). */
    static int after(byte[] b, String s) {
        byte[] needle = s.getBytes(StandardCharsets.UTF_8);
        outer:
        for (int i = 0; i + needle.length <= b.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (b[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i + needle.length;
        }
        throw new AssertionError(s + " not found");
    }

    BadInputException loadFails(byte[] bytes, String name) throws Exception {
        Path f = tmp.resolve(name);
        Files.write(f, bytes);
        BadInputException e = assertThrows(BadInputException.class, () -> Model.load(f, 1, null).close());
        assertTrue(e.getMessage().contains(f.toString()), "message names the file: " + e.getMessage());
        return e;
    }

    /** Tensor info after the name: uint32 n_dims, uint64 dims[n_dims], uint32 type, uint64 offset. */
    static ByteBuffer tensorInfo(byte[] b, String tensor) {
        return ByteBuffer.wrap(b, after(b, tensor), 4 + 8 * 2 + 4 + 8).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Test
    void truncatedFilesAreRejected() throws Exception {
        byte[] g = good();
        for (int len : new int[] {0, 3, 10, 23, 100, 5000, 200_000, g.length / 2, g.length - 1}) {
            BadInputException e = loadFails(Arrays.copyOf(g, len), "trunc" + len + ".gguf");
            assertFalse(e.getMessage().isBlank());
        }
        assertTrue(loadFails(Arrays.copyOf(g, g.length - 1), "last.gguf").getMessage().contains("truncated"));
    }

    @Test
    void aLyingOffsetNamesTheTensor() throws Exception {
        byte[] b = good();
        tensorInfo(b, "blk.1.ffn_up.weight").putLong(4 + 16 + 4, 1L << 40);
        assertTrue(loadFails(b, "offset.gguf").getMessage().contains("blk.1.ffn_up.weight"));
        byte[] c = good();
        // an offset that is aligned and inside the file but makes two tensors overlap
        tensorInfo(c, "blk.1.ffn_up.weight").putLong(4 + 16 + 4, 0);
        String m = loadFails(c, "overlap.gguf").getMessage();
        assertTrue(m.contains("overlap") && m.contains("blk.1.ffn_up.weight"), m);
    }

    @Test
    void aLyingSizeNamesTheTensor() throws Exception {
        byte[] b = good();
        tensorInfo(b, "token_embd.weight").putLong(4 + 8, 40960); // 10x the rows
        String m = loadFails(b, "size.gguf").getMessage();
        assertTrue(m.contains("token_embd.weight") && m.contains("truncated"), m);
        byte[] c = good();
        tensorInfo(c, "blk.0.attn_q.weight").putLong(4, 250); // a row that is not whole Q8_0 blocks
        m = loadFails(c, "rows.gguf").getMessage();
        assertTrue(m.contains("blk.0.attn_q.weight") && m.contains("block size 32"), m);
    }

    @Test
    void anUnsupportedTypeIsNamedWithTheSupportedOnes() throws Exception {
        byte[] b = good();
        // rows of 256: whole IQ2_XXS blocks (66 bytes each, fewer than the Q8_0 bytes there)
        tensorInfo(b, "blk.0.ffn_gate.weight").putInt(4 + 16, GgmlType.IQ2_XXS.id());
        String m = loadFails(b, "iq.gguf").getMessage();
        assertTrue(m.contains("blk.0.ffn_gate.weight") && m.contains("type IQ2_XXS is not supported; supported: F32, F16,"
                + " Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS, BF16"), m);
        byte[] c = good();
        tensorInfo(c, "blk.0.ffn_gate.weight").putInt(4 + 16, 77);
        assertTrue(loadFails(c, "unknown.gguf").getMessage().contains("unknown ggml type 77"));
    }

    @Test
    void aMissingTensorIsNamedTheLlamaCppWay() throws Exception {
        byte[] b = good();
        int at = after(b, "blk.1.ffn_up.weight");
        b[at - "up.weight".length()] = 'x'; // blk.1.ffn_xp.weight
        String m = loadFails(b, "missing.gguf").getMessage();
        assertTrue(m.contains("tensor blk.1.ffn_up.weight (model.layers.1.mlp.up_proj.weight) missing"), m);
    }

    @Test
    void anotherArchitectureIsNamed() throws Exception {
        byte[] b = good();
        int at = after(b, "general.architecture") + 4 + 8; // value type, string length
        System.arraycopy("mamba".getBytes(StandardCharsets.US_ASCII), 0, b, at, 5);
        String m = loadFails(b, "arch.gguf").getMessage();
        assertTrue(m.contains("general.architecture = mamba") && m.contains("supported: llama, qwen2"), m);
    }

    @Test
    void aMissingConfigKeyIsNamed() throws Exception {
        byte[] b = good();
        int at = after(b, "llama.block_count");
        b[at - 1] = 'x'; // llama.block_counx
        assertTrue(loadFails(b, "key.gguf").getMessage().contains("no metadata llama.block_count"));
    }
}

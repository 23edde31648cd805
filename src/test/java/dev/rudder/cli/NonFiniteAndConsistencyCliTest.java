package dev.rudder.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rudder.runtime.io.SafeTensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11: non-finite numbers never pass silently (weights, steering scales, deltas, soft
 * prompts), and a config must agree with its checkpoint and vocabulary. Exit code, message, and
 * a generous time bound for each case.
 */
class NonFiniteAndConsistencyCliTest {
    private static final Path TINY = InspectCommandTest.SHARED.resolve("models/tiny-llama-f32");
    private static final Path CHAT = InspectCommandTest.SHARED.resolve("models/rudder-chat/aligned");
    private static final String IDS = "1,7959,38923,7485";
    private static final Duration BOUND = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private static InspectCommandTest.Result run(String... args) {
        return assertTimeoutPreemptively(BOUND, () -> InspectCommandTest.run(args));
    }

    private static void assertBadInput(InspectCommandTest.Result r, String... fragments) {
        assertEquals(1, r.code(), r.err());
        for (String f : fragments) {
            assertTrue(r.err().contains(f), r.err());
        }
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    /** A copy of {@code src} (files copied, so weights can be poked), with config.json edited. */
    private Path copy(Path src, String name, Consumer<ObjectNode> config) throws IOException {
        Path dir = Files.createDirectories(tmp.resolve(name));
        try (var files = Files.list(src)) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        if (config != null) {
            ObjectNode n = (ObjectNode) JSON.readTree(dir.resolve("config.json").toFile());
            config.accept(n);
            Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(n));
        }
        return dir;
    }

    /** Overwrites element {@code index} of an F32 tensor in a safetensors file. */
    private static void poke(Path file, String tensor, int index, float value) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long n = len.flip().getLong();
            ByteBuffer header = ByteBuffer.allocate((int) n);
            ch.read(header, 8);
            JsonNode h = JSON.readTree(new String(header.array(), StandardCharsets.UTF_8));
            long start = h.get(tensor).get("data_offsets").get(0).asLong();
            ByteBuffer v = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(value).flip();
            ch.write(v, 8 + n + start + 4L * index);
        }
    }

    @Test
    void aNaNWeightIsFoundAtTheFirstLogitsNamingTheBlock() throws IOException {
        Path m = copy(TINY, "nan-weight", null);
        poke(m.resolve("model.safetensors"), "model.layers.1.mlp.down_proj.weight", 5, Float.NaN);
        InspectCommandTest.Result r = run("generate", "-m", m.toString(), "--prompt-ids", IDS, "-n", "4", "--threads", "2");
        assertBadInput(r, "the model's output is not finite", "activations first stop being finite in block 1");
    }

    @Test
    void anInfiniteNormWeightIsAnErrorAtLoad() throws IOException {
        Path m = copy(TINY, "inf-norm", null);
        poke(m.resolve("model.safetensors"), "model.layers.0.input_layernorm.weight", 3, Float.POSITIVE_INFINITY);
        assertBadInput(run("generate", "-m", m.toString(), "--prompt-ids", IDS, "-n", "1"),
                "tensor model.layers.0.input_layernorm.weight", "non-finite value (Infinity at index 3)");
        Path f = copy(TINY, "nan-final-norm", null);
        poke(f.resolve("model.safetensors"), "model.norm.weight", 0, Float.NaN);
        assertBadInput(run("generate", "-m", f.toString(), "--prompt-ids", IDS, "-n", "1"), "tensor model.norm.weight");
    }

    @Test
    void aHugeSteeringScaleIsRefusedBeforeGeneration() throws IOException {
        Path v = tmp.resolve("v.safetensors");
        new SafeTensorsWriter(Map.of()).add("direction.1", new float[64], 64).write(v);
        float[] ones = new float[64];
        java.util.Arrays.fill(ones, 1f);
        new SafeTensorsWriter(Map.of()).add("direction.1", ones, 64).write(v);
        assertBadInput(run("generate", "-m", TINY.toString(), "--prompt-ids", IDS, "-n", "1", "--steer", v + ":1e30"),
                "steering scale 1.0E30", "would overflow");
        assertBadInput(run("generate", "-m", TINY.toString(), "--prompt-ids", IDS, "-n", "1", "--steer", v + ":NaN"),
                "steering scale must be finite");
        assertBadInput(run("generate", "-m", TINY.toString(), "--prompt-ids", IDS, "-n", "1", "--steer", v + ":-Infinity"),
                "steering scale must be finite");
    }

    @Test
    void aHugeDeltaLambdaIsRefusedWhenMerging() throws IOException {
        Path d = tmp.resolve("d.safetensors");
        InspectCommandTest.Result made = run("delta", "--aligned", CHAT.toString(), "--base",
                InspectCommandTest.SHARED.resolve("models/rudder-chat/base").toString(), "-o", d.toString());
        assertEquals(0, made.code(), made.err());
        InspectCommandTest.Result r = run("generate", "-m", InspectCommandTest.SHARED.resolve("models/rudder-chat/base").toString(),
                "-p", "hi", "-n", "1", "--delta", d + ":1e30");
        assertBadInput(r, "delta " + d + ": strength 1.0E30 is outside -1000.0..1000.0");
        // within the bound, a delta with an infinity still cannot reach the model
        Path inf = tmp.resolve("inf.safetensors");
        float[] row = new float[192];
        row[7] = Float.POSITIVE_INFINITY;
        new SafeTensorsWriter(Map.of()).add("model.norm.weight", row, 192).write(inf);
        r = run("generate", "-m", CHAT.toString(), "-p", "hi", "-n", "1", "--delta", inf + ":0.5");
        assertBadInput(r, "makes tensor model.norm.weight non-finite");
        assertBadInput(run("generate", "-m", CHAT.toString(), "-p", "hi", "-n", "1", "--delta", d + ":nan"),
                "is not a finite number");
    }

    @Test
    void aSoftPromptWithNaNIsRefused() throws IOException {
        Path sp = tmp.resolve("soft.safetensors");
        float[] rows = new float[2 * 64];
        rows[70] = Float.NaN;
        new SafeTensorsWriter(Map.of()).add("embeddings", rows, 2, 64).write(sp);
        assertBadInput(run("generate", "-m", TINY.toString(), "--prompt-ids", IDS, "-n", "1", "--soft-prompt", sp.toString()),
                "soft prompt " + sp, "non-finite value (NaN) in row 1, column 6");
    }

    @Test
    void aConfigWithFewerOrMoreLayersThanTheCheckpointIsAnError() throws IOException {
        Path fewer = copy(TINY, "fewer-layers", c -> c.put("num_hidden_layers", 1));
        assertBadInput(run("generate", "-m", fewer.toString(), "--prompt-ids", IDS, "-n", "1"),
                "has tensors for layer 1", "num_hidden_layers = 1");
        Path more = copy(TINY, "more-layers", c -> c.put("num_hidden_layers", 3));
        assertBadInput(run("generate", "-m", more.toString(), "--prompt-ids", IDS, "-n", "1"), "num_hidden_layers = 3");
    }

    @Test
    void specialTokenIdsOutsideTheVocabularyAreErrors() throws IOException {
        Path eos = copy(TINY, "eos-far", c -> c.put("eos_token_id", 2_000_000_000));
        assertBadInput(run("generate", "-m", eos.toString(), "--prompt-ids", IDS, "-n", "1"),
                "field eos_token_id", "outside the vocabulary (vocab_size 49152)");
        Path bos = copy(TINY, "bos-far", c -> c.put("bos_token_id", 49152));
        assertBadInput(run("inspect", "-m", bos.toString()), "field bos_token_id");
        Path gen = copy(TINY, "gen-eos-far", null);
        Files.writeString(gen.resolve("generation_config.json"), "{\"eos_token_id\": [2, 99999999]}");
        assertBadInput(run("generate", "-m", gen.toString(), "--prompt-ids", IDS, "-n", "1"),
                "generation_config.json: eos_token_id 99999999 is not a token id of this model");
    }
}

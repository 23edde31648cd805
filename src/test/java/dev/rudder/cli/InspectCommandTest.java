package dev.rudder.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.runtime.io.SafeTensorsWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class InspectCommandTest {

    static final Path SHARED = Path.of(System.getProperty("rudder.shared", "../../shared"));

    @TempDir
    Path tmp;

    /** Exit code, stdout and stderr of one {@code rudder ...} run. */
    record Result(int code, String out, String err) {
    }

    static synchronized Result run(String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = RudderCli.execute(args);
            return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void textReport() {
        Result r = run("inspect", "-m", SHARED.resolve("models/tiny-llama-f32").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("LlamaForCausalLM"), r.out());
        assertTrue(r.out().contains("3,236,672"), "parameter count: " + r.out());
        assertTrue(r.out().contains("F32: 20 tensors"), r.out());
        assertTrue(r.out().contains("model.layers.1.self_attn.k_proj.weight"), r.out());
        assertTrue(r.out().contains("[32, 64]"), r.out());
        assertTrue(r.out().contains("check         ok"), r.out());
        assertTrue(r.out().contains("total bytes   12,946,688 (12.3 MiB)"), r.out());
        // 2 layers x 2 kv heads x head_dim 16, keys and values: 512 bytes per position in f32; 2048 positions
        assertTrue(r.out().contains("kv cache      512 B per position with f32 keys and values, 256 B with f16 or bf16"
                + " (-ctk/-ctv); 1.0 MiB / 512.0 KiB at all 2,048 positions"), r.out());
    }

    @Test
    void jsonReportForEveryCheckpoint() throws Exception {
        ObjectMapper m = new ObjectMapper();
        for (String name : new String[]{"tiny-llama-f32", "tiny-llama3-bf16", "tiny-qwen2-f16", "tiny-mistral-sharded",
                "aidreams260K-hf", "rudder-chat/aligned"}) {
            Result r = run("inspect", "-m", SHARED.resolve("models").resolve(name).toString(), "--json");
            assertEquals(0, r.code(), name + ": " + r.err());
            JsonNode j = m.readTree(r.out());
            assertEquals(0, j.get("problems").size(), name + ": " + j.get("problems"));
            long sum = 0, bytes = 0;
            for (JsonNode t : j.get("tensors")) {
                long n = 1;
                for (JsonNode d : t.get("shape")) {
                    n *= d.asLong();
                }
                sum += n;
                bytes += t.get("bytes").asLong();
            }
            assertEquals(sum, j.get("parameters").asLong(), name);
            assertEquals(bytes, j.get("total_bytes").asLong(), name);
            assertTrue(j.get("config").get("hidden_size").asInt() > 0);
        }
        JsonNode q = m.readTree(run("inspect", "-m", SHARED.resolve("models/tiny-qwen2-f16").toString(), "--json").out());
        assertEquals("Qwen2ForCausalLM", q.get("architecture").asText());
        assertTrue(q.get("dtypes").has("F16"));
        assertTrue(q.get("config").get("attention_bias").asBoolean());
        JsonNode s = m.readTree(run("inspect", "-m", SHARED.resolve("models/tiny-mistral-sharded").toString(), "--json").out());
        assertEquals(2, s.get("files").size());
        assertEquals(5179648, s.get("total_bytes").asLong());
        assertEquals(32, s.get("config").get("head_dim").asInt());
        // 4 layers x 2 kv heads x head_dim 32, keys and values
        assertEquals(4 * 2 * 32 * 2 * 4, s.get("kv_cache_bytes_per_position").get("f32").asLong());
        assertEquals(4 * 2 * 32 * 2 * 2, s.get("kv_cache_bytes_per_position").get("f16").asLong());
        assertEquals(4 * 2 * 32 * 2 * 2, s.get("kv_cache_bytes_per_position").get("bf16").asLong());
    }

    @Test
    void reportsMismatchedTensors() throws Exception {
        Files.copy(SHARED.resolve("models/aidreams260K-hf/config.json"), tmp.resolve("config.json"));
        new SafeTensorsWriter().add("model.embed_tokens.weight", new float[512 * 32], 512, 32).write(tmp.resolve("model.safetensors"));
        Result r = run("inspect", "-m", tmp.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("has shape [512, 32], expected [512, 64]"), r.out());
        assertTrue(r.out().contains("missing tensor model.norm.weight"), r.out());
    }

    @Test
    void badInputExitsWithOne() throws Exception {
        Result r = run("inspect", "-m", tmp.resolve("nope").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("does not exist"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());

        Files.writeString(tmp.resolve("config.json"), "{ not json");
        r = run("inspect", "-m", tmp.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("config.json") && r.err().contains("not valid JSON"), r.err());

        Files.copy(SHARED.resolve("models/aidreams260K-hf/config.json"), tmp.resolve("config.json"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.write(tmp.resolve("model.safetensors"), new byte[]{1, 2, 3});
        r = run("inspect", "-m", tmp.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("model.safetensors") && r.err().contains("truncated"), r.err());
    }

    /**
     * A usage error must fail with the usage text. It should exit with 2 (EXIT_USAGE); RudderCli's exit-code
     * mapper currently maps picocli's ParameterException to 1 as well, so only "not 0" is asserted here.
     */
    static void assertUsageError(Result r, String fragment) {
        assertEquals(RudderCli.EXIT_USAGE, r.code(), r.err());
        assertTrue(r.err().contains(fragment), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    @Test
    void usageErrors() {
        assertUsageError(run("inspect"), "Missing required option");
        assertUsageError(run("inspect", "-m", "x", "--bogus"), "Unknown option");
    }
}

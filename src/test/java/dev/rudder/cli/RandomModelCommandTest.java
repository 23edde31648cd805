package dev.rudder.cli;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.io.RandomCheckpoint;
import dev.rudder.runtime.io.TensorInfo;
import dev.rudder.runtime.io.TensorStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static dev.rudder.cli.InspectCommandTest.run;
import static org.junit.jupiter.api.Assertions.*;

class RandomModelCommandTest {

    static final Path SHARED = InspectCommandTest.SHARED;

    @TempDir
    Path tmp;

    @Test
    void writesTinyModelThatInspects() throws Exception {
        Path out = tmp.resolve("tiny");
        InspectCommandTest.Result r = run("random-model", "--shape", "tiny", "-o", out.toString(), "--seed", "5");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("wrote"), r.out());
        assertTrue(Files.readString(out.resolve("README.md")).toLowerCase().contains("random"));
        ModelConfig c = ModelConfig.read(out.resolve("config.json"));
        assertEquals(RandomCheckpoint.config("tiny", DType.BF16), c, "bf16 by default");
        try (TensorStore s = TensorStore.open(out)) {
            for (TensorInfo t : s.all()) {
                assertEquals(DType.BF16, t.dtype());
            }
        }
        InspectCommandTest.Result i = run("inspect", "-m", out.toString());
        assertEquals(0, i.code(), i.err());
        assertTrue(i.out().contains("check         ok"), i.out());
    }

    @Test
    void dtypeSeedAndForce() throws Exception {
        Path out = tmp.resolve("m");
        assertEquals(0, run("random-model", "--shape", "tiny", "-o", out.toString(), "--dtype", "f16", "--seed", "1").code());
        byte[] first = Files.readAllBytes(out.resolve("model.safetensors"));
        InspectCommandTest.Result again = run("random-model", "--shape", "tiny", "-o", out.toString(), "--dtype", "f16", "--seed", "1");
        assertEquals(1, again.code(), "refuses to overwrite");
        assertTrue(again.err().contains("--force"), again.err());
        assertEquals(0, run("random-model", "--shape", "tiny", "-o", out.toString(), "--dtype", "f16", "--seed", "1",
                "--force", "--threads", "1").code());
        assertArrayEquals(first, Files.readAllBytes(out.resolve("model.safetensors")), "same seed, same bytes");
        assertEquals(0, run("random-model", "--shape", "tiny", "-o", out.toString(), "--dtype", "f32", "-f").code());
        try (TensorStore s = TensorStore.open(out)) {
            assertEquals(DType.F32, s.require("model.norm.weight").dtype());
        }
    }

    @Test
    void copiesTokenizer() throws Exception {
        Path out = tmp.resolve("t");
        InspectCommandTest.Result r = run("random-model", "--shape", "tiny", "-o", out.toString(),
                "--tokenizer", SHARED.resolve("models/tokenizers/smollm2").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(out.resolve("tokenizer.json")));
        assertTrue(Files.isRegularFile(out.resolve("tokenizer_config.json")));
    }

    @Test
    void usageAndBadInput() throws Exception {
        InspectCommandTest.assertUsageError(run("random-model", "--shape", "gpt-9", "-o", tmp.resolve("x").toString()),
                "unknown --shape 'gpt-9'");
        InspectCommandTest.assertUsageError(run("random-model", "--shape", "tiny", "-o", tmp.resolve("x").toString(),
                "--dtype", "q4"), "unknown --dtype 'q4'");
        InspectCommandTest.assertUsageError(run("random-model", "--shape", "tiny"), "Missing required option");
        assertFalse(Files.exists(tmp.resolve("x")), "nothing written on usage errors");
        Path file = Files.writeString(tmp.resolve("file"), "x");
        assertEquals(1, run("random-model", "--shape", "tiny", "-o", file.toString()).code());
        assertEquals(1, run("random-model", "--shape", "tiny", "-o", tmp.resolve("y").toString(),
                "--tokenizer", tmp.resolve("missing").toString()).code());
    }
}

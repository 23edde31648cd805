package dev.rudder.cli;

import dev.rudder.runtime.io.SafeTensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class DeltaCommandTest {

    static final Path MODELS = VectorsCommandTest.SHARED.resolve("models");

    @TempDir
    Path tmp;

    @Test
    void writesDeltaWithProgressOnStderr() {
        Path out = tmp.resolve("d.safetensors");
        VectorsCommandTest.Run r = VectorsCommandTest.run("delta", "--aligned",
                MODELS.resolve("rudder-chat/aligned").toString(), "--base", MODELS.resolve("rudder-chat/base").toString(),
                "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("tensors"), r.err());
        assertTrue(r.err().contains("100%"), r.err());
        assertTrue(r.out().startsWith("wrote " + out), r.out());
        try (SafeTensorsFile f = SafeTensorsFile.open(out)) {
            assertEquals("alignment-delta", f.metadata().get("rudder.kind"));
            assertTrue(f.tensors().size() > 50);
        }
    }

    @Test
    void quietPrintsNoProgress() {
        Path out = tmp.resolve("q.safetensors");
        VectorsCommandTest.Run r = VectorsCommandTest.run("delta", "-q", "--aligned",
                MODELS.resolve("rudder-chat/aligned").toString(), "--base", MODELS.resolve("rudder-chat/target").toString(),
                "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
    }

    @Test
    void architectureMismatchIsExitOne() {
        Path out = tmp.resolve("x.safetensors");
        VectorsCommandTest.Run r = VectorsCommandTest.run("delta", "--aligned",
                MODELS.resolve("rudder-chat/aligned").toString(), "--base", MODELS.resolve("tiny-llama-f32").toString(),
                "-o", out.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("differ in"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void refusesToOverwriteAnInput() throws Exception {
        // a copy of the base model, so that the test cannot damage the shared one
        Path copy = tmp.resolve("base");
        Files.createDirectories(copy);
        for (String f : new String[] {"config.json", "model.safetensors"}) {
            Files.copy(MODELS.resolve("rudder-chat/base").resolve(f), copy.resolve(f));
        }
        byte[] before = Files.readAllBytes(copy.resolve("model.safetensors"));
        VectorsCommandTest.Run r = VectorsCommandTest.run("delta", "--aligned",
                MODELS.resolve("rudder-chat/aligned").toString(), "--base", copy.toString(),
                "-o", copy.resolve("model.safetensors").toString());
        assertEquals(1, r.code());
        assertArrayEquals(before, Files.readAllBytes(copy.resolve("model.safetensors")));
    }

    @Test
    void missingOptionIsUsageError() {
        VectorsCommandTest.assertUsageError(VectorsCommandTest.run("delta", "--aligned", "a"));
    }
}

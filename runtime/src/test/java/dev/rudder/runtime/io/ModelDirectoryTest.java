package dev.rudder.runtime.io;

import dev.rudder.runtime.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import static org.junit.jupiter.api.Assertions.*;

class ModelDirectoryTest {

    @TempDir
    Path tmp;

    Path snapshot(Path cache, String rev, long mtime) throws IOException {
        Path s = Files.createDirectories(cache.resolve("snapshots").resolve(rev));
        Files.writeString(s.resolve("config.json"), "{}");
        Files.setLastModifiedTime(s, FileTime.fromMillis(mtime));
        return s;
    }

    @Test
    void plainFolder() throws IOException {
        Files.writeString(tmp.resolve("config.json"), "{}");
        assertEquals(tmp, ModelDirectory.resolve(tmp));
        assertEquals(tmp, ModelDirectory.resolve(tmp.resolve("config.json")));
    }

    @Test
    void sharedModelsResolveToThemselves() {
        Path m = SharedCheckpointsTest.SHARED.resolve("models/tiny-llama-f32");
        assertEquals(m, ModelDirectory.resolve(m));
    }

    @Test
    void hfCacheUsesRefsMain() throws IOException {
        Path cache = Files.createDirectories(tmp.resolve("models--org--name"));
        Path a = snapshot(cache, "aaaa", 1000);
        snapshot(cache, "bbbb", 5000);
        Files.createDirectories(cache.resolve("refs"));
        Files.writeString(cache.resolve("refs/main"), "aaaa\n");
        assertEquals(a, ModelDirectory.resolve(cache));
        assertEquals(a, ModelDirectory.resolve(a), "a snapshots/<rev> folder is a plain folder");
    }

    @Test
    void hfCacheWithoutRefsPicksNewestSnapshot() throws IOException {
        Path cache = Files.createDirectories(tmp.resolve("models--org--name"));
        snapshot(cache, "old", 1000);
        Path newest = snapshot(cache, "new", 9000);
        Files.createDirectories(cache.resolve("snapshots/incomplete")); // no config.json: ignored
        assertEquals(newest, ModelDirectory.resolve(cache));
        assertEquals(newest, ModelDirectory.resolve(cache.resolve("snapshots")));
        // a stale ref falls back to the newest snapshot
        Files.createDirectories(cache.resolve("refs"));
        Files.writeString(cache.resolve("refs/main"), "gone");
        assertEquals(newest, ModelDirectory.resolve(cache));
    }

    @Test
    void errors() throws IOException {
        Path absent = tmp.resolve("absent");
        BadInputException e = assertThrows(BadInputException.class, () -> ModelDirectory.resolve(absent));
        assertEquals("model folder " + absent + " does not exist", e.getMessage());
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        e = assertThrows(BadInputException.class, () -> ModelDirectory.resolve(empty));
        assertTrue(e.getMessage().startsWith("no config.json in " + empty), e.getMessage());
        Path cache = Files.createDirectories(tmp.resolve("models--x--y/snapshots/rev"));
        e = assertThrows(BadInputException.class, () -> ModelDirectory.resolve(tmp.resolve("models--x--y")));
        assertTrue(e.getMessage().contains("no config.json in any snapshot"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> ModelDirectory.resolve(tmp));
        assertTrue(e.getMessage().contains("Hugging Face cache") && e.getMessage().contains("models--x--y"), e.getMessage());
        Path file = Files.writeString(tmp.resolve("weights.bin"), "x");
        e = assertThrows(BadInputException.class, () -> ModelDirectory.resolve(file));
        assertTrue(e.getMessage().contains("not a folder"), e.getMessage());
        assertNotNull(cache);
    }
}

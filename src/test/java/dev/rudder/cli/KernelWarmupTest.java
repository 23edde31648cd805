package dev.rudder.cli;

import dev.rudder.runtime.backend.KvCacheType;
import dev.rudder.runtime.backend.KvCacheTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KernelWarmupTest {

    @Test
    void generatesFromATemporaryOneBlockModelWithoutError() throws Exception {
        assertEquals(3, KernelWarmup.run(3, Long.MAX_VALUE / 4, 2, null, false));
    }

    @Test
    void usesAPreparedModelAndLeavesItInPlace(@TempDir Path dir) throws Exception {
        KernelWarmup.write(dir);
        assertEquals(2, KernelWarmup.run(2, Long.MAX_VALUE / 4, 1, dir, false));
        assertTrue(Files.isRegularFile(dir.resolve("model.safetensors")));
        assertTrue(Files.isRegularFile(dir.resolve("config.json")));
        assertEquals(2, KernelWarmup.run(2, Long.MAX_VALUE / 4, 1, dir, true));   // its GGUF copy
        assertTrue(Files.isRegularFile(dir.resolve(KernelWarmup.GGUF_FILE)));
    }

    @Test
    void warmsUpTheGgufCopyWhenTheCommandsModelIsAGgufFile(@TempDir Path dir) throws Exception {
        KernelWarmup.write(dir);
        String gguf = dir.resolve(KernelWarmup.GGUF_FILE).toString();
        assertTrue(KernelWarmup.ggufModelIn(new String[] {"generate", "-m", gguf, "-p", "x"}));
        assertTrue(KernelWarmup.ggufModelIn(new String[] {"generate", "--model=" + gguf}));
        assertFalse(KernelWarmup.ggufModelIn(new String[] {"generate", "-m", dir.toString()}));   // a folder
        assertFalse(KernelWarmup.ggufModelIn(new String[] {"generate", "-m", dir.resolve("none.gguf").toString()}));
        assertFalse(KernelWarmup.ggufModelIn(new String[] {"generate", "-p", "x"}));
    }

    @Test
    void aFolderWithoutAModelFallsBackToATemporaryOne(@TempDir Path dir) throws Exception {
        assertEquals(1, KernelWarmup.run(1, Long.MAX_VALUE / 4, 1, dir.resolve("missing"), true));
    }

    @Test
    void startsOnlyForVerbsThatRunOnePrompt() {
        assertFalse(KernelWarmup.startFor(new String[] {"serve", "-m", "x"}));
        assertFalse(KernelWarmup.startFor(new String[] {"bench"}));
        assertFalse(KernelWarmup.startFor(new String[0]));
        assertFalse(KernelWarmup.startFor(new String[] {"generate", "--device", "cuda", "-m", "x"}));
        assertFalse(KernelWarmup.startFor(new String[] {"generate", "--device=auto", "-m", "x"}));
        assertEquals(0, KernelWarmup.awaitBeforePrompt(140));
    }

    @Test
    void usesTheCommandsKvCacheTypes() throws Exception {
        assertEquals(KvCacheTypes.DEFAULT, KernelWarmup.cacheTypesIn(new String[] {"generate", "-m", "x"}));
        assertEquals(new KvCacheTypes(KvCacheType.F16, KvCacheType.BF16),
                KernelWarmup.cacheTypesIn(new String[] {"generate", "-ctk", "f16", "--cache-type-v=BF16"}));
        assertEquals(KvCacheTypes.DEFAULT, KernelWarmup.cacheTypesIn(new String[] {"generate", "-ctk", "q9"}));
        assertEquals(1, KernelWarmup.run(1, Long.MAX_VALUE / 4, 1, null, false,
                new KvCacheTypes(KvCacheType.F16, KvCacheType.F16)));
    }

    @Test
    void usesTheCommandsThreadCount() {
        int cpus = Runtime.getRuntime().availableProcessors();
        assertEquals(1, KernelWarmup.threadsIn(new String[] {"generate", "--threads", "1", "-m", "x"}));
        assertEquals(1, KernelWarmup.threadsIn(new String[] {"generate", "--threads=1"}));
        assertEquals(cpus, KernelWarmup.threadsIn(new String[] {"generate", "-m", "x"}));
        assertEquals(cpus, KernelWarmup.threadsIn(new String[] {"generate", "--threads", "many"}));
        assertEquals(cpus, KernelWarmup.threadsIn(new String[] {"generate", "--threads", "999"}));
    }
}

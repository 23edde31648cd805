package dev.rudder.runtime.io;

import dev.rudder.runtime.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class TensorStoreTest {

    @TempDir
    Path tmp;

    static BadInputException bad(Runnable r, String... fragments) {
        BadInputException e = assertThrows(BadInputException.class, r::run);
        for (String s : fragments) {
            assertTrue(e.getMessage().contains(s), "message should contain '" + s + "': " + e.getMessage());
        }
        return e;
    }

    Path dir(String name) throws IOException {
        return Files.createDirectories(tmp.resolve(name));
    }

    @Test
    void singleFileRequireAndShapes() throws IOException {
        Path d = dir("single");
        new SafeTensorsWriter().add("w", new float[6], 2, 3).add("b", new float[]{1, 2, 3}).write(d.resolve("model.safetensors"));
        try (TensorStore s = TensorStore.open(d)) {
            assertEquals(2, s.all().size());
            assertSame(s.require("w"), s.require("w", 2, 3));
            assertArrayEquals(new float[]{1, 2, 3}, s.readFloats(s.require("b", 3)));
            bad(() -> s.require("nope"), "tensor nope missing in " + d);
            bad(() -> s.require("w", 3, 2), "tensor w in " + d.resolve("model.safetensors"),
                    "has shape [2, 3], expected [3, 2]");
            bad(() -> s.require("b", 3, 1), "tensor b", "expected [3, 1]");
            assertTrue(s.find("nope").isEmpty());
            assertEquals(36, s.totalBytes());
        }
    }

    @Test
    void missingFolderAndNoWeights() throws IOException {
        bad(() -> TensorStore.open(tmp.resolve("absent")), "model folder", "does not exist");
        Path empty = dir("empty");
        bad(() -> TensorStore.open(empty), "no model weights in " + empty);
        Path f = Files.writeString(tmp.resolve("file.txt"), "x");
        bad(() -> TensorStore.open(f), "not a folder");
    }

    @Test
    void severalSafetensorsFilesWithoutIndex() throws IOException {
        Path d = dir("multi");
        new SafeTensorsWriter().add("a", new float[]{1}).write(d.resolve("part-b.safetensors"));
        new SafeTensorsWriter().add("b", new float[]{2}).write(d.resolve("part-a.safetensors"));
        try (TensorStore s = TensorStore.open(d)) {
            assertEquals(2, s.all().size());
            assertEquals("b", s.all().get(0).name(), "files in name order");
            assertEquals(2f, s.readFloats(s.require("b"))[0]);
        }
        new SafeTensorsWriter().add("a", new float[]{3}).write(d.resolve("part-c.safetensors"));
        bad(() -> TensorStore.open(d), "tensor a appears twice");
    }

    @Test
    void shardedIndex() throws IOException {
        Path d = dir("sharded");
        new SafeTensorsWriter().add("x", new float[]{1}).write(d.resolve("s1.safetensors"));
        new SafeTensorsWriter().add("y", new float[]{2, 3}).write(d.resolve("s2.safetensors"));
        Files.writeString(d.resolve("model.safetensors.index.json"),
                "{\"metadata\":{\"total_size\":12},\"weight_map\":{\"y\":\"s2.safetensors\",\"x\":\"s1.safetensors\"}}");
        try (TensorStore s = TensorStore.open(d)) {
            assertEquals(2, s.files().size());
            assertEquals(d.resolve("s2.safetensors"), s.require("y", 2).file());
            assertEquals("y", s.all().getFirst().name(), "index order");
        }
    }

    @Test
    void indexNamingMissingShard() throws IOException {
        Path d = dir("missing-shard");
        new SafeTensorsWriter().add("x", new float[]{1}).write(d.resolve("s1.safetensors"));
        Files.writeString(d.resolve("model.safetensors.index.json"),
                "{\"weight_map\":{\"x\":\"s1.safetensors\",\"y\":\"s2.safetensors\"}}");
        bad(() -> TensorStore.open(d), "model.safetensors.index.json", "s2.safetensors", "does not exist", "tensor y");
    }

    @Test
    void indexNamingTensorAbsentFromShard() throws IOException {
        Path d = dir("absent-tensor");
        new SafeTensorsWriter().add("x", new float[]{1}).write(d.resolve("s1.safetensors"));
        Files.writeString(d.resolve("model.safetensors.index.json"),
                "{\"weight_map\":{\"x\":\"s1.safetensors\",\"z\":\"s1.safetensors\"}}");
        bad(() -> TensorStore.open(d), "tensor z missing in " + d.resolve("s1.safetensors"));
    }

    @Test
    void badIndexFiles() throws IOException {
        Path d = dir("bad-index");
        Files.writeString(d.resolve("model.safetensors.index.json"), "{not json");
        bad(() -> TensorStore.open(d), "model.safetensors.index.json", "not valid JSON");
        Files.writeString(d.resolve("model.safetensors.index.json"), "{\"metadata\":{}}");
        bad(() -> TensorStore.open(d), "weight_map");
        Files.writeString(d.resolve("model.safetensors.index.json"), "{\"weight_map\":{\"x\":\"../evil.safetensors\"}}");
        bad(() -> TensorStore.open(d), "not a file in the model folder");
    }

    @Test
    void corruptShardNamesShardAndTensor() throws IOException {
        Path d = dir("corrupt");
        new SafeTensorsWriter().add("x", new float[100]).write(d.resolve("model.safetensors"));
        byte[] all = Files.readAllBytes(d.resolve("model.safetensors"));
        Files.write(d.resolve("model.safetensors"), java.util.Arrays.copyOf(all, all.length - 4));
        bad(() -> TensorStore.open(d), d.resolve("model.safetensors").toString(), "tensor x");
    }

    @Test
    void closeUnmapsAll() throws IOException {
        Path d = dir("close");
        new SafeTensorsWriter().add("x", new float[]{1}).write(d.resolve("model.safetensors"));
        TensorStore s = TensorStore.open(d);
        TensorInfo x = s.require("x");
        s.close();
        assertThrows(IllegalStateException.class, () -> x.data().get(SafeTensorsFile.F32_LE, 0));
        s.close();
    }
}

package dev.rudder.runtime.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SafeTensorsWriterTest {

    @TempDir
    Path tmp;

    @Test
    void roundTripWithMetadataAndAlignment() throws IOException {
        Path p = tmp.resolve("v.safetensors");
        float[] a = {1.5f, -2f, 3.25f, 0f, 1e-30f, -7f};
        new SafeTensorsWriter(Map.of("method", "mean-diff", "layers", "3-5"))
                .add("direction.3", a, 2, 3)
                .add("direction.4", new float[]{9})
                .add("ids", DType.I32, MemorySegment.ofArray(new int[]{7, 8}), 2)
                .write(p);
        byte[] raw = Files.readAllBytes(p);
        long headerLen = ByteBuffer.wrap(raw, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8, "header padded to 8 bytes");
        assertEquals(8 + headerLen + 6 * 4 + 4 + 8, raw.length);
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertEquals(Map.of("method", "mean-diff", "layers", "3-5"), f.metadata());
            assertEquals(List.of("direction.3", "direction.4", "ids"), f.tensors().stream().map(TensorInfo::name).toList());
            assertArrayEquals(new long[]{2, 3}, f.tensor("direction.3").shape());
            assertArrayEquals(a, f.tensor("direction.3").toFloats());
            assertArrayEquals(new long[]{1}, f.tensor("direction.4").shape(), "no shape: 1-D");
            assertEquals(8, f.tensor("ids").data().get(SafeTensorsFile.I32_LE, 4));
            assertEquals(0, (f.tensor("direction.3").data().address() - f.segment().address()) % 8, "data 8-byte aligned");
        }
        assertEquals(1, Files.list(tmp).count(), "no temporary file left");
    }

    @Test
    void writtenFilesAreWorldReadableLikeAnyOther() throws IOException {
        Path p = tmp.resolve("perm.safetensors");
        new SafeTensorsWriter().add("x", new float[]{1}).write(p);
        Path ref = Files.writeString(tmp.resolve("ref.txt"), "x");
        try {
            assertEquals(Files.getPosixFilePermissions(ref).contains(PosixFilePermission.OTHERS_READ),
                    Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_READ));
        } catch (UnsupportedOperationException e) {
            // not POSIX
        }
    }

    @Test
    void overwriteReplacesAtomically() throws IOException {
        Path p = tmp.resolve("o.safetensors");
        new SafeTensorsWriter().add("x", new float[]{1}).write(p);
        new SafeTensorsWriter().add("y", new float[]{2, 3}).write(p);
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertTrue(f.find("x").isEmpty());
            assertArrayEquals(new float[]{2, 3}, f.tensor("y").toFloats());
        }
    }

    @Test
    void misuseIsRejected() throws IOException {
        SafeTensorsWriter w = new SafeTensorsWriter().add("x", new float[]{1});
        assertThrows(IllegalArgumentException.class, () -> w.add("x", new float[]{2}));
        assertThrows(IllegalArgumentException.class, () -> w.add("__metadata__", new float[]{2}));
        assertThrows(IllegalArgumentException.class, () -> w.add("z", new float[]{1, 2, 3}, 2, 2));
        assertThrows(IllegalArgumentException.class,
                () -> w.add("z", DType.F16, MemorySegment.ofArray(new byte[3]), 2));
    }

    @Test
    void streamChecksByteCountsAndLeavesNoFile() throws IOException {
        Path p = tmp.resolve("s.safetensors");
        var specs = List.of(new SafeTensorsWriter.TensorSpec("a", DType.BF16, new long[]{4}),
                new SafeTensorsWriter.TensorSpec("b", DType.F32, new long[]{2, 2}));
        assertThrows(IllegalStateException.class, () -> SafeTensorsWriter.stream(p, Map.of(), specs,
                (i, spec, sink) -> sink.writeFloats(new float[3])));
        assertThrows(IllegalStateException.class, () -> SafeTensorsWriter.stream(p, Map.of(), specs,
                (i, spec, sink) -> sink.writeFloats(new float[5])));
        assertFalse(Files.exists(p));
        assertEquals(0, Files.list(tmp).count(), "temporary file removed");
        SafeTensorsWriter.stream(p, Map.of("k", "v"), specs, (i, spec, sink) -> {
            float[] v = new float[(int) spec.elementCount()];
            for (int j = 0; j < v.length; j++) {
                v[j] = i * 10 + j + 0.5f;
            }
            sink.writeFloats(v, 0, 1);
            sink.writeFloats(v, 1, v.length - 1);
        });
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertArrayEquals(new float[]{0.5f, 1.5f, 2.5f, 3.5f}, f.tensor("a").toFloats());
            assertEquals(DType.BF16, f.tensor("a").dtype());
            assertArrayEquals(new float[]{10.5f, 11.5f, 12.5f, 13.5f}, f.tensor("b").toFloats());
        }
    }

    @Test
    void copyTensorsBetweenFiles() throws IOException {
        Path a = tmp.resolve("a.safetensors"), b = tmp.resolve("b.safetensors");
        new SafeTensorsWriter().addFloats("h", DType.F16, new float[]{1, 2, 3, 4}, 2, 2).write(a);
        try (SafeTensorsFile f = SafeTensorsFile.open(a)) {
            new SafeTensorsWriter().add(f.tensor("h")).write(b);
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(b)) {
            assertEquals(DType.F16, f.tensor("h").dtype());
            assertArrayEquals(new float[]{1, 2, 3, 4}, f.tensor("h").toFloats());
        }
    }
}

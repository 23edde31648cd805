package dev.rudder.runtime.io.gguf;

import dev.rudder.runtime.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class GgufFileTest {

    @TempDir
    Path tmp;

    @Test
    void writtenFilesGetTheUsualPermissionsNotOwnerOnlyOnesAndNoTemporaryFileRemains() throws Exception {
        Path f = tmp.resolve("perm.gguf");
        new GgufWriter().addF32("t", new float[] {1, 2}, 1, 2).write(f);
        Path probe = Files.createFile(tmp.resolve("probe"));   // what this process's umask gives a new file
        assertEquals(Files.getPosixFilePermissions(probe), Files.getPosixFilePermissions(f));
        try (var left = Files.list(tmp)) {
            assertEquals(List.of("perm.gguf", "probe"), left.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void genericWriterAndReaderAgreeOnEveryValueType() throws Exception {
        GgufWriter w = new GgufWriter()
                .put("u8", new GgufValue(GgufValueType.UINT8, 255L, null))
                .put("i8", new GgufValue(GgufValueType.INT8, -128L, null))
                .put("u16", new GgufValue(GgufValueType.UINT16, 65535L, null))
                .put("i16", new GgufValue(GgufValueType.INT16, -32768L, null))
                .put("u32", GgufValue.uint32(4294967295L))
                .put("i32", GgufValue.int32(Integer.MIN_VALUE))
                .put("f32", GgufValue.float32(-0.0f))
                .put("b", GgufValue.bool(true))
                .put("s", GgufValue.string("héllo"))
                .put("u64", new GgufValue(GgufValueType.UINT64, -1L, null))
                .put("i64", new GgufValue(GgufValueType.INT64, Long.MIN_VALUE, null))
                .put("f64", GgufValue.float64(Math.PI))
                .put("arr", new GgufValue(GgufValueType.ARRAY,
                        List.of(GgufValue.string("a"), GgufValue.string("")), GgufValueType.STRING))
                .put("general.alignment", GgufValue.uint32(64))
                .addF32("t", new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
        Path f = tmp.resolve("all.gguf");
        w.write(f);
        try (GgufFile g = GgufFile.open(f)) {
            assertEquals(64, g.alignment());
            assertEquals(0, g.dataStart() % 64);
            Map<String, GgufValue> m = g.metadata();
            assertEquals(255L, m.get("u8").value());
            assertEquals(-128L, m.get("i8").value());
            assertEquals(65535L, m.get("u16").value());
            assertEquals(-32768L, m.get("i16").value());
            assertEquals(4294967295L, m.get("u32").value());
            assertEquals((long) Integer.MIN_VALUE, m.get("i32").value());
            assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits((Float) m.get("f32").value()));
            assertEquals(true, m.get("b").value());
            assertEquals("héllo", m.get("s").value());
            assertEquals("18446744073709551615", m.get("u64").asText());
            assertEquals(Long.MIN_VALUE, m.get("i64").value());
            assertEquals(Math.PI, m.get("f64").value());
            assertEquals("[a, ]", m.get("arr").asText());
            GgufTensor t = g.tensor("t");
            assertArrayEquals(new long[] {3, 2}, t.dims());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, g.readFloats(t));
        }
    }

    @Test
    void notGgufIsBadInput() throws Exception {
        Path f = tmp.resolve("x.gguf");
        Files.writeString(f, "hello world, this is not a gguf file at all");
        assertTrue(assertThrows(BadInputException.class, () -> GgufFile.open(f)).getMessage().contains("magic"));
    }
}

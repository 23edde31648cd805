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
    @SuppressWarnings("unchecked")
    void arraysOfEveryElementTypeReadBackWithTheirValuesAndPlainViews() throws Exception {
        GgufWriter w = new GgufWriter();
        w.put("u8s", array(GgufValueType.UINT8, 0L, 255L));
        w.put("i8s", array(GgufValueType.INT8, -128L, 127L));
        w.put("u16s", array(GgufValueType.UINT16, 65535L, 1L));
        w.put("i16s", array(GgufValueType.INT16, -32768L, 2L));
        w.put("u32s", array(GgufValueType.UINT32, 4294967295L, 3L));
        w.put("i32s", GgufValue.int32s(new int[] {Integer.MIN_VALUE, -1, 7}));
        w.put("u64s", array(GgufValueType.UINT64, -1L, 4L));
        w.put("i64s", array(GgufValueType.INT64, Long.MIN_VALUE, 5L));
        w.put("f32s", GgufValue.floats(new float[] {-0.0f, 1.5f, Float.NaN}));
        w.put("f64s", array(GgufValueType.FLOAT64, Math.E, -2.0));
        w.put("bools", array(GgufValueType.BOOL, true, false, true));
        GgufValue strs = GgufValue.strings(List.of("a", "", "héllo", "\uFFFD ok", "\u2581x"));
        w.put("strs", strs);
        w.put("empty", GgufValue.strings(List.of()));
        Path f = tmp.resolve("arrays.gguf");
        w.write(f);
        try (GgufFile g = GgufFile.open(f)) {
            assertEquals("[0, 255]", g.get("u8s").asText());
            assertEquals("[-128, 127]", g.get("i8s").asText());
            assertEquals("[65535, 1]", g.get("u16s").asText());
            assertEquals("[-32768, 2]", g.get("i16s").asText());
            assertEquals("[4294967295, 3]", g.get("u32s").asText());
            assertEquals("[-2147483648, -1, 7]", g.get("i32s").asText());
            assertEquals("[18446744073709551615, 4]", g.get("u64s").asText());
            assertEquals("[-9223372036854775808, 5]", g.get("i64s").asText());
            assertEquals("[-0.0, 1.5, NaN]", g.get("f32s").asText());
            assertEquals("[true, false, true]", g.get("bools").asText());
            assertEquals(List.of("a", "", "héllo", "\uFFFD ok", "\u2581x"), g.plainMetadata().get("strs"));
            assertEquals(List.of(), g.plainMetadata().get("empty"));
            assertEquals(List.of(Math.E, -2.0), g.plainMetadata().get("f64s"));
            assertEquals(List.of(-0.0, 1.5, Double.NaN), g.plainMetadata().get("f32s"));   // FLOAT32 widens to Double
            assertEquals(List.of((long) Integer.MIN_VALUE, -1L, 7L), g.plainMetadata().get("i32s"));
            GgufValue i32 = ((List<?>) g.get("i32s").value()).stream().map(GgufValue.class::cast).toList().get(2);
            assertEquals(GgufValue.int32(7), i32);
            assertEquals(strs, g.get("strs"));   // a read array equals the written one, element by element
            assertThrows(UnsupportedOperationException.class, () -> ((List<Object>) g.get("strs").value()).set(0, null));
        }
    }

    @Test
    void anArrayElementThatIsNotUtf8OrNotABooleanIsNamedInTheError() throws Exception {
        Path f = tmp.resolve("bad.gguf");
        new GgufWriter().put("tokens", GgufValue.strings(List.of("ok", "XY"))).write(f);
        byte[] b = Files.readAllBytes(f);
        int at = indexOf(b, "XY".getBytes());
        b[at] = (byte) 0xC3;   // a lead byte followed by ASCII: malformed
        Files.write(f, b);
        assertTrue(assertThrows(BadInputException.class, () -> GgufFile.open(f)).getMessage()
                .contains("invalid UTF-8 in metadata tokens[1]"));
        Path g = tmp.resolve("badbool.gguf");
        new GgufWriter().put("flags", array(GgufValueType.BOOL, false, true)).write(g);
        byte[] c = Files.readAllBytes(g);
        c[indexOf(c, "flags".getBytes()) + 5 + 4 + 4 + 8 + 1] = 2;   // key, value type, element type, count, flag 0, flag 1
        Files.write(g, c);
        assertTrue(assertThrows(BadInputException.class, () -> GgufFile.open(g)).getMessage()
                .contains("invalid boolean 2 in metadata flags[1]"));
    }

    @Test
    void anArrayClaimingMoreElementsThanTheFileHoldsIsBadInputBeforeAnythingIsAllocated() throws Exception {
        for (GgufValueType t : new GgufValueType[] {GgufValueType.UINT8, GgufValueType.INT32, GgufValueType.STRING}) {
            Path f = tmp.resolve("huge-" + t + ".gguf");
            new GgufWriter().put("a", array(t, t == GgufValueType.STRING ? "x" : (Object) 1L)).write(f);
            byte[] b = Files.readAllBytes(f);
            int count = indexOf(b, "a".getBytes()) + 1 + 4 + 4;   // key, value type, element type, then the count
            java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(count, Integer.MAX_VALUE - 16L);
            Files.write(f, b);
            String msg = assertThrows(BadInputException.class, () -> GgufFile.open(f)).getMessage();
            assertTrue(msg.contains("array a claims 2147483631 elements"), msg);
        }
    }

    private static GgufValue array(GgufValueType t, Object... values) {
        return new GgufValue(GgufValueType.ARRAY, java.util.Arrays.stream(values)
                .map(v -> new GgufValue(t, v, null)).toList(), t);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("not found");
    }

    @Test
    void notGgufIsBadInput() throws Exception {
        Path f = tmp.resolve("x.gguf");
        Files.writeString(f, "hello world, this is not a gguf file at all");
        assertTrue(assertThrows(BadInputException.class, () -> GgufFile.open(f)).getMessage().contains("magic"));
    }
}

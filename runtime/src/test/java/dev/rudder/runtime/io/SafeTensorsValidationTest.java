package dev.rudder.runtime.io;

import dev.rudder.runtime.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** Every malformed file gives a BadInputException naming file (and tensor), never an OOM or IndexOutOfBounds. */
class SafeTensorsValidationTest {

    @TempDir
    Path tmp;

    /** A safetensors file with this header text, declared header length {@code declaredLen} and {@code dataBytes} bytes of data. */
    static byte[] raw(String header, long declaredLen, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredLen).put(h);
        return b.array();
    }

    static byte[] raw(String header, int dataBytes) {
        return raw(header, header.getBytes(StandardCharsets.UTF_8).length, dataBytes);
    }

    Path file(String name, byte[] bytes) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    BadInputException fails(Path p, String... fragments) {
        BadInputException e = assertThrows(BadInputException.class, () -> {
            try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
                fail("opened " + f.tensors());
            }
        });
        assertTrue(e.getMessage().contains(p.toString()), "names the file: " + e.getMessage());
        for (String s : fragments) {
            assertTrue(e.getMessage().contains(s), "message should contain '" + s + "': " + e.getMessage());
        }
        return e;
    }

    @Test
    void validFileOpens() throws IOException {
        Path p = file("ok.safetensors", raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"__metadata__\":{\"k\":\"v\"},\"b\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[8,10]}}", 10));
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertEquals(2, f.tensors().size());
            assertEquals("a", f.tensors().get(0).name());
            assertEquals("b", f.tensors().get(1).name());
            assertEquals(1, f.tensor("b").elementCount());
            assertEquals("v", f.metadata().get("k"));
        }
    }

    @Test
    void missingFile() {
        fails(tmp.resolve("nope.safetensors"), "does not exist");
    }

    @Test
    void folderInsteadOfFile() {
        fails(tmp, "folder");
    }

    @Test
    void emptyAndShorterThanEightBytes() throws IOException {
        fails(file("empty.safetensors", new byte[0]), "truncated");
        fails(file("short.safetensors", new byte[]{1, 2, 3, 4, 5}), "truncated");
    }

    @Test
    void headerLengthLargerThanFile() throws IOException {
        fails(file("big.safetensors", raw("{}", 1000, 0)), "header length 1000");
        // a length with the top bit set (a u64 above Long.MAX_VALUE) must not wrap around
        fails(file("huge.safetensors", raw("{}", -8, 0)), "header length");
        // plain garbage bytes: interpreted as a huge length
        fails(file("garbage.safetensors", "this is not a safetensors file at all".getBytes(StandardCharsets.UTF_8)),
                "header length");
    }

    @Test
    void headerNotJson() throws IOException {
        fails(file("notjson.safetensors", raw("{\"a\": [1, 2", 0)), "not valid JSON");
        fails(file("array.safetensors", raw("[1, 2, 3]", 0)), "not a JSON object");
        fails(file("dup.safetensors", raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8)), "not valid JSON");
    }

    @Test
    void offsetsOutsideDataArea() throws IOException {
        fails(file("out.safetensors", raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8)),
                "tensor w", "outside the data area");
        fails(file("neg.safetensors", raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 8)),
                "tensor w", "invalid data_offsets");
        fails(file("rev.safetensors", raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8)),
                "tensor w", "invalid data_offsets");
        fails(file("bigoff.safetensors", raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],"
                + "\"data_offsets\":[9223372036854775800,9223372036854775804]}}", 8)), "tensor w", "outside");
        fails(file("nooff.safetensors", raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 8)), "tensor w", "data_offsets");
    }

    @Test
    void truncatedFileIsOffsetsOutsideData() throws IOException {
        Path good = tmp.resolve("good.safetensors");
        new SafeTensorsWriter().add("x", new float[1000], 10, 100).write(good);
        byte[] all = Files.readAllBytes(good);
        byte[] cut = java.util.Arrays.copyOf(all, all.length - 100);
        fails(file("cut.safetensors", cut), "tensor x", "outside the data area");
    }

    @Test
    void overlappingTensors() throws IOException {
        fails(file("overlap.safetensors", raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12)), "overlaps", "a", "b");
        fails(file("same.safetensors", raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8)), "overlaps");
    }

    @Test
    void emptyTensorsMayShareOffsets() throws IOException {
        Path p = file("empty-t.safetensors", raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4));
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertEquals(0, f.tensor("a").elementCount());
        }
    }

    @Test
    void byteLengthNotMatchingShape() throws IOException {
        fails(file("len.safetensors", raw("{\"w\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8)),
                "tensor w", "needs 6 bytes");
        fails(file("len2.safetensors", raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 24)),
                "tensor w", "needs 24 bytes");
    }

    @Test
    void hugeShapeDoesNotOverflow() throws IOException {
        fails(file("hugeshape.safetensors", raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],"
                + "\"data_offsets\":[0,4]}}", 4)), "tensor w", "too large");
        fails(file("negshape.safetensors", raw("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4)),
                "tensor w", "invalid shape");
        fails(file("strshape.safetensors", raw("{\"w\":{\"dtype\":\"F32\",\"shape\":\"4\",\"data_offsets\":[0,4]}}", 4)),
                "tensor w", "shape");
    }

    @Test
    void unknownDtype() throws IOException {
        fails(file("dtype.safetensors", raw("{\"w\":{\"dtype\":\"Q4_K\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1)),
                "tensor w", "Q4_K");
        fails(file("nodtype.safetensors", raw("{\"w\":{\"shape\":[1],\"data_offsets\":[0,1]}}", 1)),
                "tensor w", "dtype");
    }

    @Test
    void missingTensor() throws IOException {
        Path p = tmp.resolve("m.safetensors");
        new SafeTensorsWriter().add("x", new float[]{1}).write(p);
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            BadInputException e = assertThrows(BadInputException.class, () -> f.tensor("y"));
            assertTrue(e.getMessage().contains("tensor y missing in " + p), e.getMessage());
            assertTrue(f.find("y").isEmpty());
        }
    }

    @Test
    void closeUnmaps() throws IOException {
        Path p = tmp.resolve("c.safetensors");
        new SafeTensorsWriter().add("x", new float[]{1, 2}).write(p);
        SafeTensorsFile f = SafeTensorsFile.open(p);
        TensorInfo x = f.tensor("x");
        assertEquals(2f, x.data().get(SafeTensorsFile.F32_LE, 4));
        assertTrue(x.data().isReadOnly());
        f.close();
        assertThrows(IllegalStateException.class, () -> x.data().get(SafeTensorsFile.F32_LE, 0));
        f.close(); // idempotent
    }

    @Test
    void callerOwnedArenaIsLeftOpen() throws IOException {
        Path p = tmp.resolve("a.safetensors");
        new SafeTensorsWriter().add("x", new float[]{3}).write(p);
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            TensorInfo x;
            try (SafeTensorsFile f = SafeTensorsFile.open(p, arena)) {
                x = f.tensor("x");
            }
            assertEquals(3f, x.data().get(SafeTensorsFile.F32_LE, 0));
        }
    }
}

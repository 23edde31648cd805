package dev.rudder.steering.vectors;

import dev.rudder.runtime.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ControlVectorGgufTest {

    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-f32", "rudder-chat-target"})
    void goldenGgufHoldsExactlyTheSafetensorsVectors(String model) {
        SteeringVectors gguf = ControlVectorGguf.read(TestData.golden("apply/" + model + ".controlvector.gguf"));
        SteeringVectors st = SafetensorsVectors.read(TestData.golden("apply/" + model + ".vectors.safetensors"));
        assertTrue(gguf.sameVectors(st), "vectors differ");
        assertEquals("llama", gguf.metadata().modelHint());
        int[] expected = model.startsWith("tiny") ? new int[] {1} : new int[] {1, 2, 3};
        assertArrayEquals(expected, gguf.layers());
        for (int l : gguf.layers()) {
            assertEquals(1.0, gguf.norm(l), 1e-6);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-f32", "rudder-chat-target"})
    void writerReproducesGoldenGgufByteForByte(String model) throws Exception {
        SteeringVectors st = SafetensorsVectors.read(TestData.golden("apply/" + model + ".vectors.safetensors"));
        byte[] ours = ControlVectorGguf.toGguf(st.withMetadata(VectorMetadata.EMPTY.withModelHint("llama")))
                .toBytes();
        byte[] golden = Files.readAllBytes(TestData.golden("apply/" + model + ".controlvector.gguf"));
        assertArrayEquals(golden, ours);
    }

    @Test
    void roundTripIsExactWithMetadata() throws Exception {
        SteeringVectors v = SteeringVectors.of(TestData.randomVectors(7, 37, 1, 3, 5), TestData.fullMetadata(), "x");
        Path f = tmp.resolve("v.gguf");
        ControlVectorGguf.write(f, v);
        SteeringVectors back = ControlVectorGguf.read(f);
        assertEquals(v, back);
        assertEquals(v.metadata(), back.metadata());
        // and again: file bytes are stable
        Path f2 = tmp.resolve("v2.gguf");
        ControlVectorGguf.write(f2, back);
        assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(f2));
        // header as llama.cpp expects it
        try (GgufFile g = GgufFile.open(f)) {
            assertEquals(3, g.version());
            assertEquals("controlvector", g.get("general.architecture").value());
            assertEquals(GgufValueType.INT32, g.get("controlvector.layer_count").type());
            assertEquals(3L, g.get("controlvector.layer_count").value());
            assertEquals(GgufValueType.STRING, g.get("controlvector.model_hint").type());
            for (GgufFile.TensorInfo t : g.tensors()) {
                assertEquals(GgufFile.GGML_TYPE_F32, t.ggmlType());
                assertArrayEquals(new long[] {37}, t.dims());
                assertEquals(0, t.offset() % 32);
                assertEquals(0, (g.dataStart() + t.offset()) % 32);
            }
        }
    }

    @Test
    void missingModelHintIsWrittenAsLlama() throws Exception {
        SteeringVectors v = SteeringVectors.of(TestData.randomVectors(1, 8, 2), VectorMetadata.EMPTY, "x");
        Path f = tmp.resolve("v.gguf");
        ControlVectorGguf.write(f, v);
        SteeringVectors back = ControlVectorGguf.read(f);
        assertTrue(back.sameVectors(v));
        assertEquals("llama", back.metadata().modelHint());
    }

    @Test
    void layerZeroCannotBeExported() {
        SteeringVectors v = SteeringVectors.of(TestData.randomVectors(1, 8, 0, 1), VectorMetadata.EMPTY, "a.st");
        BadInputException e = assertThrows(BadInputException.class, () -> ControlVectorGguf.toGguf(v));
        assertTrue(e.getMessage().contains("direction.0"), e.getMessage());
        assertTrue(ControlVectorGguf.toGguf(v.select(new LayerRange(1, 1))).toBytes().length > 0);
    }

    @Test
    void layerZeroIsReadable() throws Exception {
        // llama.cpp would refuse it, Rudder reads it
        GgufWriter w = new GgufWriter().put("general.architecture", GgufValue.string("controlvector"))
                .addF32("direction.0", new float[] {1, 2, 3}, 3);
        Path f = tmp.resolve("z.gguf");
        w.write(f);
        assertArrayEquals(new int[] {0}, ControlVectorGguf.read(f).layers());
    }

    @Test
    void otherArchitectureIsRejected() throws Exception {
        Path f = tmp.resolve("m.gguf");
        new GgufWriter().put("general.architecture", GgufValue.string("llama"))
                .addF32("token_embd.weight", new float[4], 2, 2).write(f);
        BadInputException e = assertThrows(BadInputException.class, () -> ControlVectorGguf.read(f));
        assertTrue(e.getMessage().contains("llama") && e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void strayTensorAndWrongRankAreRejected() throws Exception {
        Path f = tmp.resolve("s.gguf");
        new GgufWriter().put("general.architecture", GgufValue.string("controlvector"))
                .addF32("direction.1", new float[4], 4).addF32("probe", new float[4], 4).write(f);
        assertTrue(assertThrows(BadInputException.class, () -> ControlVectorGguf.read(f)).getMessage()
                .contains("probe"));
        Path g = tmp.resolve("r.gguf");
        new GgufWriter().addF32("direction.1", new float[4], 2, 2).write(g);
        assertTrue(assertThrows(BadInputException.class, () -> ControlVectorGguf.read(g)).getMessage()
                .contains("direction.1"));
    }

    @Test
    void nanInGgufNamesFileAndLayer() throws Exception {
        Path f = tmp.resolve("nan.gguf");
        new GgufWriter().addF32("direction.2", new float[] {0, Float.NaN}, 2).write(f);
        BadInputException e = assertThrows(BadInputException.class, () -> ControlVectorGguf.read(f));
        assertTrue(e.getMessage().contains("nan.gguf") && e.getMessage().contains("direction.2"), e.getMessage());
    }

    @Test
    void everyTruncationIsABadInputException() throws Exception {
        byte[] golden = Files.readAllBytes(TestData.golden("apply/tiny-llama-f32.controlvector.gguf"));
        for (int len = 0; len < golden.length; len++) {
            Path f = tmp.resolve("t" + len + ".gguf");
            Files.write(f, Arrays.copyOf(golden, len));
            BadInputException e = assertThrows(BadInputException.class, () -> ControlVectorGguf.read(f),
                    "length " + len);
            assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        }
    }

    @Test
    void corruptCountsAndLengthsAreBadInput() throws Exception {
        byte[] golden = Files.readAllBytes(TestData.golden("apply/tiny-llama-f32.controlvector.gguf"));
        // every single byte of the header flipped to 0xFF: a clean error or (for payload bytes) a valid read
        for (int i = 0; i < 0xE0; i++) {
            byte[] b = golden.clone();
            b[i] = (byte) 0xFF;
            Path f = tmp.resolve("c" + i + ".gguf");
            Files.write(f, b);
            try {
                ControlVectorGguf.read(f);
            } catch (BadInputException expected) {
                // fine
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama-f32", "rudder-chat-target"})
    void randomCorruptionGivesBadInputOrAValidRead(String model) throws Exception {
        byte[] golden = Files.readAllBytes(TestData.golden("apply/" + model + ".controlvector.gguf"));
        java.util.Random r = new java.util.Random(42);
        Path f = tmp.resolve("fuzz.gguf");
        for (int iter = 0; iter < 500; iter++) {
            byte[] b = golden.clone();
            int edits = 1 + r.nextInt(3);
            for (int e = 0; e < edits; e++) {
                // mostly the header, where a bad byte changes structure
                int pos = r.nextInt(4) == 0 ? r.nextInt(b.length) : r.nextInt(Math.min(b.length, 0xE0));
                b[pos] = (byte) (r.nextBoolean() ? r.nextInt(256) : new int[] {0, 0xFF, 0x7F, 0x80}[r.nextInt(4)]);
            }
            Files.write(f, b);
            try {
                ControlVectorGguf.read(f);
            } catch (BadInputException expected) {
                // fine: anything else fails the test
            }
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
            GgufFile.TensorInfo t = g.tensor("t");
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

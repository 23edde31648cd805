package dev.rudder.steering.vectors;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.gguf.GgmlType;
import dev.rudder.runtime.io.gguf.GgufFile;
import dev.rudder.runtime.io.gguf.GgufTensor;
import dev.rudder.runtime.io.gguf.GgufValue;
import dev.rudder.runtime.io.gguf.GgufValueType;
import dev.rudder.runtime.io.gguf.GgufWriter;
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
            for (GgufTensor t : g.tensors()) {
                assertEquals(GgmlType.F32, t.type());
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
}

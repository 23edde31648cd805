package dev.rudder.steering.vectors;

import dev.rudder.runtime.BadInputException;
import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.*;

class SteeringVectorsTest {

    @Test
    void nanAndInfAreRejectedNamingSourceAndLayer() {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            Map<Integer, float[]> m = TestData.randomVectors(1, 8, 1, 4);
            m.get(4)[5] = bad;
            BadInputException e = assertThrows(BadInputException.class,
                    () -> SteeringVectors.of(m, VectorMetadata.EMPTY, "my.safetensors"));
            assertTrue(e.getMessage().contains("my.safetensors"), e.getMessage());
            assertTrue(e.getMessage().contains("layer 4"), e.getMessage());
        }
    }

    @Test
    void lengthsMustAgree() {
        Map<Integer, float[]> m = new TreeMap<>(Map.of(1, new float[4], 2, new float[5]));
        BadInputException e = assertThrows(BadInputException.class, () -> SteeringVectors.of(m, null, "f"));
        assertTrue(e.getMessage().contains("direction.2") && e.getMessage().contains("5"), e.getMessage());
    }

    @Test
    void emptyAndNegativeAreRejected() {
        assertThrows(BadInputException.class, () -> SteeringVectors.of(Map.of(), null, "f"));
        assertThrows(BadInputException.class, () -> SteeringVectors.of(Map.of(-1, new float[2]), null, "f"));
        assertThrows(BadInputException.class, () -> SteeringVectors.of(Map.of(1, new float[0]), null, "f"));
    }

    @Test
    void checkCompatibleMessages() {
        SteeringVectors v = SteeringVectors.of(TestData.randomVectors(1, 64, 1, 9), null, "vec.gguf");
        BadInputException e = assertThrows(BadInputException.class, () -> v.checkCompatible(192, 12));
        assertEquals("vector file vec.gguf has hidden size 64, model has 192", e.getMessage());
        e = assertThrows(BadInputException.class, () -> v.checkCompatible(64, 6));
        assertTrue(e.getMessage().startsWith("vector file vec.gguf: layer 9 outside the model's 6 layers"),
                e.getMessage());
        v.checkCompatible(64, 10);
        SteeringVectors r = v.withMetadata(VectorMetadata.EMPTY.withLayers(new LayerRange(1, 12)));
        e = assertThrows(BadInputException.class, () -> r.checkCompatible(64, 10));
        assertTrue(e.getMessage().contains("1-12"), e.getMessage());
    }

    @Test
    void immutable() {
        Map<Integer, float[]> m = TestData.randomVectors(1, 8, 2);
        SteeringVectors v = SteeringVectors.of(m, null, null);
        float before = v.get(2, 4);
        m.get(2)[4] = 99;
        v.vector(2)[4] = 99;
        assertEquals(before, v.get(2, 4));
        assertEquals("(in memory)", v.source());
    }

    @Test
    void selectNormalizeAndNorms() {
        Map<Integer, float[]> m = new TreeMap<>();
        m.put(0, new float[] {3, 4});
        m.put(2, new float[] {0, 0});
        m.put(5, new float[] {1, 0});
        SteeringVectors v = SteeringVectors.of(m, null, "x");
        assertEquals(5.0, v.norm(0));
        SteeringVectors n = v.normalized();
        assertArrayEquals(new float[] {0.6f, 0.8f}, n.vector(0));
        assertArrayEquals(new float[] {0, 0}, n.vector(2));
        SteeringVectors s = v.select(new LayerRange(1, 5));
        assertArrayEquals(new int[] {2, 5}, s.layers());
        assertEquals(new LayerRange(1, 5), s.metadata().layers());
        assertThrows(BadInputException.class, () -> v.select(new LayerRange(3, 4)));
        assertEquals(0, v.firstLayer());
        assertEquals(5, v.lastLayer());
        assertEquals(3, v.size());
        assertTrue(v.has(2) && !v.has(1));
    }

    @Test
    void layerRangeParsing() {
        assertEquals(new LayerRange(1, 3), LayerRange.parse("1-3"));
        assertEquals(new LayerRange(4, 4), LayerRange.parse(" 4 "));
        assertEquals("2-7", new LayerRange(2, 7).toString());
        assertThrows(BadInputException.class, () -> LayerRange.parse("3-1"));
        assertThrows(BadInputException.class, () -> LayerRange.parse("a-b"));
        assertThrows(BadInputException.class, () -> LayerRange.parse("-1"));
        assertThrows(BadInputException.class, () -> LayerRange.parse(""));
    }

    @Test
    void metadataStringMapRoundTrip() {
        VectorMetadata md = TestData.fullMetadata();
        assertEquals(md, VectorMetadata.fromStringMap(md.toStringMap(), "f"));
        Map<String, String> m = md.toStringMap();
        assertEquals("1-3", m.get("rudder.layers"));
        assertEquals("4.25", m.get("rudder.scale"));
        assertEquals("128", m.get("rudder.prompts"));
        assertThrows(BadInputException.class,
                () -> VectorMetadata.fromStringMap(Map.of("rudder.scale", "lots"), "f"));
        assertThrows(BadInputException.class,
                () -> VectorMetadata.fromStringMap(Map.of("rudder.prompts", "-3"), "f"));
        BadInputException e = assertThrows(BadInputException.class,
                () -> VectorMetadata.fromStringMap(Map.of("rudder.layers", "x"), "the.safetensors"));
        assertTrue(e.getMessage().contains("the.safetensors"), e.getMessage());
    }
}

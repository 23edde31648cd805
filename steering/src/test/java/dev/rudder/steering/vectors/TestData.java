package dev.rudder.steering.vectors;

import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

final class TestData {
    private TestData() {
    }

    static Path shared() {
        return Path.of(System.getProperty("rudder.shared", "../../shared")).toAbsolutePath();
    }

    static Path golden(String rel) {
        return shared().resolve("golden/steering").resolve(rel);
    }

    /** Random vectors with awkward values mixed in: -0.0, subnormals, extremes. */
    static Map<Integer, float[]> randomVectors(long seed, int hidden, int... layers) {
        Random r = new Random(seed);
        Map<Integer, float[]> m = new TreeMap<>();
        for (int l : layers) {
            float[] v = new float[hidden];
            for (int i = 0; i < hidden; i++) {
                v[i] = (float) r.nextGaussian();
            }
            v[0] = -0.0f;
            v[1 % hidden] = Float.MIN_VALUE;
            v[2 % hidden] = -Float.MAX_VALUE;
            v[3 % hidden] = Float.intBitsToFloat(0x007FFFFF); // largest subnormal
            m.put(l, v);
        }
        return m;
    }

    static VectorMetadata fullMetadata() {
        return new VectorMetadata("llama", "mean_diff", new LayerRange(1, 3), 4.25, 128,
                Map.of("generator", "unit test", "note", "ümlaut ✓"));
    }
}

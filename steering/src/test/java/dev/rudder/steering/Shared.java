package dev.rudder.steering;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.runtime.io.SafeTensorsFile;
import dev.rudder.runtime.io.TensorStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Test access to ../shared (models, goldens, prompts). */
public final class Shared {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Shared() {
    }

    public static Path root() {
        Path p = Path.of(System.getProperty("rudder.shared", "../../shared")).toAbsolutePath().normalize();
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException("shared test data not found at " + p + " (set -Drudder.shared)");
        }
        return p;
    }

    public static Path path(String relative) {
        return root().resolve(relative);
    }

    public static JsonNode json(String relative) {
        try {
            return JSON.readTree(path(relative).toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static int[] ints(JsonNode arr) {
        int[] out = new int[arr.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = arr.get(i).asInt();
        }
        return out;
    }

    public static float[] tensor(String relativeFile, String name) {
        try (SafeTensorsFile f = SafeTensorsFile.open(path(relativeFile))) {
            return TensorStore.toFloats(f.tensor(name));
        }
    }

    public static float maxAbsDiff(float[] a, int aOff, float[] b, int bOff, int n) {
        float max = 0;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, Math.abs(a[aOff + i] - b[bOff + i]));
        }
        return max;
    }
}

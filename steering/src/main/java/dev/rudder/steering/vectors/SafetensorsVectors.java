package dev.rudder.steering.vectors;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.SafeTensorsFile;
import dev.rudder.runtime.io.SafeTensorsWriter;
import dev.rudder.runtime.io.TensorInfo;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Rudder's own steering-vector format: a safetensors file with one F32 tensor {@code direction.l} of shape
 * {@code [hidden_size]} per steered block ({@code l} 0-based, added to the output of block {@code l}; see
 * {@link SteeringVectors} for how this relates to llama.cpp) and the {@code __metadata__} keys described in
 * {@link VectorMetadata} ({@code rudder.model_hint}, {@code rudder.method}, {@code rudder.layers},
 * {@code rudder.scale}, {@code rudder.prompts}; other keys are kept as extra entries).
 *
 * <p>Reading also accepts F16 and BF16 tensors (widened exactly); writing always uses F32.
 */
public final class SafetensorsVectors {

    private static final Pattern DIRECTION = Pattern.compile("direction\\.(0|[1-9][0-9]{0,8})");

    private SafetensorsVectors() {
    }

    /**
     * Reads a safetensors vector file.
     *
     * @throws BadInputException naming the file and tensor for a tensor that is not {@code direction.N}, not 1-D,
     *                           not a float type, or has NaN/Inf, and for malformed metadata
     */
    public static SteeringVectors read(Path file) {
        String src = file.toString();
        try (SafeTensorsFile st = SafeTensorsFile.open(file)) {
            Map<Integer, float[]> vectors = new TreeMap<>();
            for (TensorInfo t : st.tensors()) {
                Matcher m = DIRECTION.matcher(t.name());
                if (!m.matches()) {
                    throw new BadInputException("vector file " + src + " has a tensor " + t.name()
                            + "; only direction.N tensors are allowed");
                }
                if (t.rank() != 1) {
                    throw new BadInputException("vector file " + src + ": tensor " + t.name() + " has shape "
                            + t.shapeString() + ", expected [hidden_size]");
                }
                if (!t.dtype().isFloat32Widenable()) {
                    throw new BadInputException("vector file " + src + ": tensor " + t.name() + " has dtype "
                            + t.dtype() + ", expected F32");
                }
                vectors.put(Integer.parseInt(m.group(1)), t.toFloats());
            }
            return SteeringVectors.of(vectors, VectorMetadata.fromStringMap(st.metadata(), src), src);
        }
    }

    /** Writes {@code vectors} as F32 tensors {@code direction.l} (ascending) with {@link VectorMetadata#toStringMap}. */
    public static void write(Path file, SteeringVectors vectors) throws IOException {
        SafeTensorsWriter w = new SafeTensorsWriter(vectors.metadata().toStringMap());
        for (int layer : vectors.layers()) {
            w.add("direction." + layer, vectors.vector(layer), vectors.hiddenSize());
        }
        w.write(file);
    }
}

package dev.rudder.steering.inferaligner;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.SafeTensorsFile;
import dev.rudder.runtime.io.SafeTensorsWriter;
import dev.rudder.runtime.io.TensorInfo;
import dev.rudder.runtime.io.TensorStore;
import dev.rudder.runtime.steer.Gate;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * InferAligner's guidance gate: the target model's own safety direction at one layer (unit
 * length) and a bias calibrated on labelled prompts. At the last prompt token,
 * {@code dot(blockOutput(layer), direction) + bias > 0} means "harmful: steer".
 * Stored as safetensors: tensor {@code gate.direction} [hidden], metadata {@code rudder.gate.layer},
 * {@code rudder.gate.bias}, {@code rudder.gate.accuracy}.
 */
public record GuidanceGate(int layer, float[] direction, float bias, double accuracy) {

    static final String TENSOR = "gate.direction";
    static final String KEY_LAYER = "rudder.gate.layer";
    static final String KEY_BIAS = "rudder.gate.bias";
    static final String KEY_ACCURACY = "rudder.gate.accuracy";

    public Gate toRuntimeGate() {
        return new Gate(layer, direction, bias);
    }

    public void checkCompatible(int hiddenSize, int numLayers) {
        if (direction.length != hiddenSize) {
            throw new BadInputException("gate has hidden size " + direction.length + ", the model has " + hiddenSize);
        }
        if (layer < 0 || layer >= numLayers) {
            throw new BadInputException("gate layer " + layer + " is outside the model's " + numLayers + " layers");
        }
    }

    public void write(Path file) {
        write(file, Map.of());
    }

    /** Writes the gate with {@code extraMetadata} (e.g. the model it was calibrated on) beside its own fields. */
    public void write(Path file, Map<String, String> extraMetadata) {
        Map<String, String> meta = new LinkedHashMap<>(extraMetadata);
        meta.put(KEY_LAYER, Integer.toString(layer));
        meta.put(KEY_BIAS, Float.toString(bias));
        meta.put(KEY_ACCURACY, Double.toString(accuracy));
        meta.put("rudder.method", "inferaligner-gate");
        try {
            new SafeTensorsWriter(meta).add(TENSOR, direction, direction.length).write(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write gate file " + file, e);
        }
    }

    public static GuidanceGate read(Path file) {
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            TensorInfo t = f.find(TENSOR).orElseThrow(() -> new BadInputException(
                    "gate file " + file + " has no tensor " + TENSOR + " (make one with `rudder align calibrate`)"));
            float[] dir = TensorStore.toFloats(t);
            Map<String, String> m = f.metadata();
            int layer = parseInt(m.get(KEY_LAYER), KEY_LAYER, file);
            float bias = parseFloat(m.get(KEY_BIAS), KEY_BIAS, file);
            String acc = m.get(KEY_ACCURACY);
            for (float v : dir) {
                if (!Float.isFinite(v)) {
                    throw new BadInputException("gate file " + file + " has NaN or Inf in " + TENSOR);
                }
            }
            double accuracy;
            try {
                accuracy = acc == null ? Double.NaN : Double.parseDouble(acc);
            } catch (NumberFormatException e) {
                throw new BadInputException("gate file " + file + ": metadata " + KEY_ACCURACY + " is not a number: " + acc);
            }
            return new GuidanceGate(layer, dir, bias, accuracy);
        }
    }

    private static int parseInt(String v, String key, Path file) {
        try {
            return Integer.parseInt(v);
        } catch (RuntimeException e) {
            throw new BadInputException("gate file " + file + ": metadata " + key + " missing or not an integer: " + v);
        }
    }

    private static float parseFloat(String v, String key, Path file) {
        try {
            float f = Float.parseFloat(v);
            if (!Float.isFinite(f)) {
                throw new NumberFormatException();
            }
            return f;
        } catch (RuntimeException e) {
            throw new BadInputException("gate file " + file + ": metadata " + key + " missing or not a finite number: " + v);
        }
    }
}

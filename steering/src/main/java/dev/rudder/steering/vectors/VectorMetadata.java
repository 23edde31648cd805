package dev.rudder.steering.vectors;

import dev.rudder.runtime.BadInputException;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * What a steering-vector file says about its vectors. Every field but {@code extra} may be null (unknown).
 *
 * <p>In a safetensors vector file these are the {@code __metadata__} entries (all values are strings there):
 * <table>
 *   <caption>metadata keys</caption>
 *   <tr><th>key</th><th>field</th><th>value</th></tr>
 *   <tr><td>{@code rudder.model_hint}</td><td>{@link #modelHint}</td><td>architecture or model the vectors were
 *       made for, e.g. {@code llama} (llama.cpp's {@code controlvector.model_hint})</td></tr>
 *   <tr><td>{@code rudder.method}</td><td>{@link #method}</td><td>how they were made: {@code mean_diff},
 *       {@code pca}, {@code random}, ... (free text)</td></tr>
 *   <tr><td>{@code rudder.layers}</td><td>{@link #layers}</td><td>{@code "a-b"}: 0-based blocks to steer by
 *       default (inclusive)</td></tr>
 *   <tr><td>{@code rudder.scale}</td><td>{@link #defaultScale}</td><td>default strength, a decimal number</td></tr>
 *   <tr><td>{@code rudder.prompts}</td><td>{@link #promptCount}</td><td>number of prompts (pairs) the vectors
 *       were computed from, an integer</td></tr>
 *   <tr><td>anything else</td><td>{@link #extra}</td><td>kept as is</td></tr>
 * </table>
 * In a llama.cpp control-vector GGUF the model hint is {@code controlvector.model_hint}; the other fields use the
 * same {@code rudder.*} keys (llama.cpp ignores them), typed: {@code rudder.scale} FLOAT64,
 * {@code rudder.prompts} INT32, {@code rudder.layers} and {@code rudder.method} STRING; extra entries are STRING
 * values under their own key.
 */
public record VectorMetadata(String modelHint, String method, LayerRange layers, Double defaultScale,
                             Integer promptCount, Map<String, String> extra) {

    public static final String KEY_MODEL_HINT = "rudder.model_hint";
    public static final String KEY_METHOD = "rudder.method";
    public static final String KEY_LAYERS = "rudder.layers";
    public static final String KEY_SCALE = "rudder.scale";
    public static final String KEY_PROMPTS = "rudder.prompts";

    /** No metadata at all. */
    public static final VectorMetadata EMPTY = new VectorMetadata(null, null, null, null, null, Map.of());

    public VectorMetadata {
        if (defaultScale != null && !Double.isFinite(defaultScale)) {
            throw new BadInputException("default scale must be a finite number, got " + defaultScale);
        }
        if (promptCount != null && promptCount < 0) {
            throw new BadInputException("prompt count must not be negative, got " + promptCount);
        }
        if (extra != null) {
            for (Map.Entry<String, String> e : extra.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new IllegalArgumentException("metadata keys and values must not be null: " + e);
                }
            }
        }
        extra = extra == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(extra));
    }

    /** True for the keys that map to a field (and for keys that file formats reserve). */
    public static boolean isReservedKey(String key) {
        return key.startsWith("rudder.") || key.startsWith("general.") || key.startsWith("controlvector.");
    }

    public VectorMetadata withModelHint(String v) {
        return new VectorMetadata(v, method, layers, defaultScale, promptCount, extra);
    }

    public VectorMetadata withMethod(String v) {
        return new VectorMetadata(modelHint, v, layers, defaultScale, promptCount, extra);
    }

    public VectorMetadata withLayers(LayerRange v) {
        return new VectorMetadata(modelHint, method, v, defaultScale, promptCount, extra);
    }

    public VectorMetadata withDefaultScale(Double v) {
        return new VectorMetadata(modelHint, method, layers, v, promptCount, extra);
    }

    public VectorMetadata withPromptCount(Integer v) {
        return new VectorMetadata(modelHint, method, layers, defaultScale, v, extra);
    }

    public VectorMetadata withExtra(Map<String, String> v) {
        return new VectorMetadata(modelHint, method, layers, defaultScale, promptCount, v);
    }

    /** The safetensors {@code __metadata__} map (insertion order: fields, then extra entries). */
    public Map<String, String> toStringMap() {
        Map<String, String> m = new LinkedHashMap<>();
        if (modelHint != null) {
            m.put(KEY_MODEL_HINT, modelHint);
        }
        if (method != null) {
            m.put(KEY_METHOD, method);
        }
        if (layers != null) {
            m.put(KEY_LAYERS, layers.toString());
        }
        if (defaultScale != null) {
            m.put(KEY_SCALE, Double.toString(defaultScale));
        }
        if (promptCount != null) {
            m.put(KEY_PROMPTS, Integer.toString(promptCount));
        }
        extra.forEach((k, v) -> {
            if (!isReservedKey(k)) {
                m.put(k, v);
            }
        });
        return m;
    }

    /**
     * Reads the fields from a safetensors {@code __metadata__} map; unknown keys go to {@link #extra}.
     *
     * @param source the file, for error messages
     * @throws BadInputException naming the file and key when a value is malformed
     */
    public static VectorMetadata fromStringMap(Map<String, String> map, String source) {
        Objects.requireNonNull(map);
        String hint = null;
        String method = null;
        LayerRange layers = null;
        Double scale = null;
        Integer prompts = null;
        Map<String, String> extra = new TreeMap<>();
        for (Map.Entry<String, String> e : map.entrySet()) {
            String k = e.getKey();
            String v = e.getValue();
            switch (k) {
                case KEY_MODEL_HINT -> hint = v;
                case KEY_METHOD -> method = v;
                case KEY_LAYERS -> layers = parseLayers(v, source);
                case KEY_SCALE -> scale = parseScale(v, source);
                case KEY_PROMPTS -> prompts = parsePrompts(v, source);
                default -> {
                    if (!isReservedKey(k)) {
                        extra.put(k, v);
                    }
                }
            }
        }
        return new VectorMetadata(hint, method, layers, scale, prompts, extra);
    }

    static LayerRange parseLayers(String v, String source) {
        try {
            return LayerRange.parse(v);
        } catch (BadInputException e) {
            throw new BadInputException("vector file " + source + ": metadata " + KEY_LAYERS + " = \"" + v
                    + "\" is not a layer range a-b");
        }
    }

    static Double parseScale(String v, String source) {
        try {
            double d = Double.parseDouble(v.trim());
            if (Double.isFinite(d)) {
                return d;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new BadInputException("vector file " + source + ": metadata " + KEY_SCALE + " = \"" + v
                + "\" is not a finite number");
    }

    static Integer parsePrompts(String v, String source) {
        try {
            int n = Integer.parseInt(v.trim());
            if (n >= 0) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new BadInputException("vector file " + source + ": metadata " + KEY_PROMPTS + " = \"" + v
                + "\" is not a non-negative integer");
    }
}

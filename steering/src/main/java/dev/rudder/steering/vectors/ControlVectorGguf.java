package dev.rudder.steering.vectors;

import dev.rudder.runtime.io.gguf.GgufFile;
import dev.rudder.runtime.io.gguf.GgufTensor;
import dev.rudder.runtime.io.gguf.GgufValue;
import dev.rudder.runtime.io.gguf.GgufValueType;
import dev.rudder.runtime.io.gguf.GgufWriter;
import dev.rudder.runtime.BadInputException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * llama.cpp control-vector GGUF files: {@code general.architecture = "controlvector"},
 * {@code controlvector.model_hint} (string), {@code controlvector.layer_count} (int32, the number of tensors), and
 * one F32 tensor {@code direction.N} of shape {@code [n_embd]} per steered layer.
 *
 * <p><b>Layer numbering.</b> llama.cpp adds {@code direction.N} to the output of 0-based block {@code N} (graph
 * layer {@code il = N}, tensor {@code l_out}), which is exactly Rudder's {@code direction.N}: files are traded with
 * no index shift. llama.cpp's loader refuses {@code direction.0}, so {@link #write} refuses a layer-0 vector (drop
 * it first with {@link SteeringVectors#select}); {@link #read} accepts one. Vectors made by llama.cpp's
 * {@code cvector-generator} are stored one index after the block they were measured at ({@code direction.{il+1}});
 * they are imported unchanged, meaning what llama.cpp makes of them.
 *
 * <p>Rudder's metadata fields other than the model hint travel as extra {@code rudder.*} keys (see
 * {@link VectorMetadata}), which llama.cpp ignores, so a GGUF round trip keeps them.
 */
public final class ControlVectorGguf {

    public static final String ARCHITECTURE = "controlvector";
    public static final String KEY_ARCHITECTURE = "general.architecture";
    public static final String KEY_MODEL_HINT = "controlvector.model_hint";
    public static final String KEY_LAYER_COUNT = "controlvector.layer_count";
    /** Model hint written when the vectors carry none (the value llama.cpp writes for LLaMA models). */
    public static final String DEFAULT_MODEL_HINT = "llama";

    private static final Pattern DIRECTION = Pattern.compile("direction\\.(0|[1-9][0-9]{0,8})");

    private ControlVectorGguf() {
    }

    /**
     * Reads a control-vector GGUF.
     *
     * @throws BadInputException when the file is not a control vector (another architecture, tensors other than
     *                           {@code direction.N}, not 1-D, not F32/F16/BF16) or has invalid vectors
     */
    public static SteeringVectors read(Path file) {
        String src = file.toString();
        try (GgufFile g = GgufFile.open(file)) {
            GgufValue arch = g.get(KEY_ARCHITECTURE);
            if (arch != null && !(arch.type() == GgufValueType.STRING && ARCHITECTURE.equals(arch.value()))) {
                throw new BadInputException("GGUF file " + src + " has general.architecture = " + arch.asText()
                        + ", not a control vector (\"" + ARCHITECTURE + "\")");
            }
            Map<Integer, float[]> vectors = new TreeMap<>();
            for (GgufTensor t : g.tensors()) {
                Matcher m = DIRECTION.matcher(t.name());
                if (!m.matches()) {
                    throw new BadInputException("control vector " + src + " has a tensor " + t.name()
                            + "; only direction.N tensors are allowed");
                }
                if (t.dims().length != 1) {
                    throw new BadInputException("control vector " + src + ": tensor " + t.name() + " has "
                            + t.dims().length + " dimensions, expected 1");
                }
                vectors.put(Integer.parseInt(m.group(1)), g.readFloats(t));
            }
            return SteeringVectors.of(vectors, metadata(g, src), src);
        }
    }

    private static VectorMetadata metadata(GgufFile g, String src) {
        String hint = null;
        String method = null;
        LayerRange layers = null;
        Double scale = null;
        Integer prompts = null;
        Map<String, String> extra = new TreeMap<>();
        for (Map.Entry<String, GgufValue> e : g.metadata().entrySet()) {
            String k = e.getKey();
            GgufValue v = e.getValue();
            switch (k) {
                case KEY_MODEL_HINT -> hint = v.asText();
                case VectorMetadata.KEY_MODEL_HINT -> {
                    if (hint == null) {
                        hint = v.asText();
                    }
                }
                case VectorMetadata.KEY_METHOD -> method = v.asText();
                case VectorMetadata.KEY_LAYERS -> layers = VectorMetadata.parseLayers(v.asText(), src);
                case VectorMetadata.KEY_SCALE -> scale = v.asDouble() != null ? v.asDouble()
                        : VectorMetadata.parseScale(v.asText(), src);
                case VectorMetadata.KEY_PROMPTS -> prompts = VectorMetadata.parsePrompts(v.asText(), src);
                default -> {
                    if (!VectorMetadata.isReservedKey(k)) {
                        extra.put(k, v.asText());
                    }
                }
            }
        }
        if (scale != null && !Double.isFinite(scale)) {
            throw new BadInputException("vector file " + src + ": metadata " + VectorMetadata.KEY_SCALE
                    + " is not a finite number");
        }
        return new VectorMetadata(hint, method, layers, scale, prompts, extra);
    }

    /**
     * The GGUF image of {@code vectors}: architecture, model hint (or {@value #DEFAULT_MODEL_HINT}), layer count,
     * then the {@code rudder.*} fields that are set and the extra entries as strings; tensors ascending by layer.
     *
     * @throws BadInputException when the vectors have a layer-0 vector (llama.cpp cannot load it)
     */
    public static GgufWriter toGguf(SteeringVectors vectors) {
        if (vectors.has(0)) {
            throw new BadInputException("vector file " + vectors.source() + " has a layer-0 vector (direction.0), "
                    + "which llama.cpp control vectors cannot express (llama.cpp rejects direction.0); "
                    + "drop it first (e.g. rudder vectors convert --layers 1-" + Math.max(1, vectors.lastLayer())
                    + ")");
        }
        VectorMetadata md = vectors.metadata();
        GgufWriter w = new GgufWriter();
        w.put(KEY_ARCHITECTURE, GgufValue.string(ARCHITECTURE));
        w.put(KEY_MODEL_HINT, GgufValue.string(md.modelHint() != null ? md.modelHint() : DEFAULT_MODEL_HINT));
        w.put(KEY_LAYER_COUNT, GgufValue.int32(vectors.size()));
        if (md.method() != null) {
            w.put(VectorMetadata.KEY_METHOD, GgufValue.string(md.method()));
        }
        if (md.layers() != null) {
            w.put(VectorMetadata.KEY_LAYERS, GgufValue.string(md.layers().toString()));
        }
        if (md.defaultScale() != null) {
            w.put(VectorMetadata.KEY_SCALE, GgufValue.float64(md.defaultScale()));
        }
        if (md.promptCount() != null) {
            w.put(VectorMetadata.KEY_PROMPTS, GgufValue.int32(md.promptCount()));
        }
        md.extra().forEach((k, v) -> {
            if (!VectorMetadata.isReservedKey(k)) {
                w.put(k, GgufValue.string(v));
            }
        });
        for (int layer : vectors.layers()) {
            w.addF32("direction." + layer, vectors.vector(layer), vectors.hiddenSize());
        }
        return w;
    }

    /**
     * Writes {@code vectors} as a llama.cpp control-vector GGUF (version 3, alignment 32).
     *
     * @throws BadInputException when the vectors have a layer-0 vector
     */
    public static void write(Path file, SteeringVectors vectors) throws IOException {
        toGguf(vectors).write(file);
    }
}

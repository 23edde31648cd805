package dev.rudder.steering.delta;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.io.ModelDirectory;
import dev.rudder.runtime.io.SafeTensorsWriter;
import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.io.TensorInfo;
import dev.rudder.runtime.io.TensorStore;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Alignment vectors: {@code delta = W_aligned - W_base}, tensor by tensor, saved as a float32 safetensors file.
 *
 * <p>Every tensor of the aligned model is included (embeddings and norms too), under its Hugging Face name, with
 * the same shape; each element is {@code fl(aligned - base)} computed in float32 after widening both stored values
 * exactly to float32. The computation streams: it reads both models through their memory mappings in chunks of
 * {@value #CHUNK} elements, so memory use is a few MB whatever the model size (never one model, let alone both, as
 * floats in memory).
 *
 * <p>Before anything is written the two models are checked to be the same architecture with the same shapes:
 * {@code config.json} fields (architecture, hidden size, layers, heads, KV heads, head size, intermediate size,
 * vocabulary, tied embeddings) and then every tensor (present in both, same shape, a float dtype). Any difference
 * is a {@link BadInputException} naming the field or tensor.
 *
 * <p>Metadata written to {@code __metadata__} (all strings): {@value #KEY_KIND} = {@value #KIND},
 * {@code rudder.formula} = {@code "aligned - base"}, {@code rudder.aligned} and {@code rudder.base} (the folders as
 * given), and the config fields {@value #KEY_ARCHITECTURE}, {@code rudder.model_type}, {@code rudder.hidden_size},
 * {@code rudder.num_layers}, {@code rudder.num_heads}, {@code rudder.num_kv_heads}, {@code rudder.head_dim},
 * {@code rudder.intermediate_size}, {@code rudder.vocab_size}, {@code rudder.tie_word_embeddings}, which
 * {@link DeltaSet#checkCompatible} compares with the model a delta is applied to.
 *
 * <p>Applying: see {@link DeltaSet} ({@code W + sum_d lambda_d * delta_d}).
 */
public final class AlignmentDelta {

    /** Elements processed per chunk while streaming. */
    public static final int CHUNK = 1 << 18;

    public static final String KEY_KIND = "rudder.kind";
    public static final String KIND = "alignment-delta";
    public static final String KEY_FORMULA = "rudder.formula";
    public static final String KEY_ALIGNED = "rudder.aligned";
    public static final String KEY_BASE = "rudder.base";
    public static final String KEY_ARCHITECTURE = "rudder.architecture";

    /** Called after each tensor is written. */
    @FunctionalInterface
    public interface Progress {
        /**
         * @param done        tensors written so far (1..total)
         * @param total       number of tensors
         * @param tensor      name of the tensor just written
         * @param elementsDone elements written so far
         * @param elementsTotal elements in all tensors
         */
        void update(int done, int total, String tensor, long elementsDone, long elementsTotal);
    }

    /** What {@link #compute} wrote: tensor and element counts, and the largest |delta| and its L2 norm. */
    public record Result(Path file, int tensorCount, long elementCount, float maxAbs, double l2Norm) {
    }

    private AlignmentDelta() {
    }

    /** {@link #compute(Path, Path, Path, Progress)} without progress reports. */
    public static Result compute(Path alignedDir, Path baseDir, Path outFile) throws IOException {
        return compute(alignedDir, baseDir, outFile, null);
    }

    /**
     * Computes {@code aligned - base} for every tensor and writes it to {@code outFile} (safetensors, F32).
     *
     * @param alignedDir the aligned model (a Hugging Face folder or cache entry)
     * @param baseDir    the base model it was fine-tuned from
     * @param progress   called after each tensor (may be null)
     * @throws BadInputException when the models differ in architecture or shapes (before anything is written)
     */
    public static Result compute(Path alignedDir, Path baseDir, Path outFile, Progress progress) throws IOException {
        Path a = ModelDirectory.resolve(alignedDir);
        Path b = ModelDirectory.resolve(baseDir);
        ModelConfig ca = ModelConfig.read(a.resolve(ModelDirectory.CONFIG));
        ModelConfig cb = ModelConfig.read(b.resolve(ModelDirectory.CONFIG));
        checkConfigs(ca, "aligned model " + alignedDir, cb, "base model " + baseDir);
        try (TensorStore sa = TensorStore.open(a); TensorStore sb = TensorStore.open(b)) {
            List<TensorInfo> aligned = sa.all();
            List<TensorInfo> base = new ArrayList<>(aligned.size());
            for (TensorInfo t : aligned) {
                TensorInfo u = sb.find(t.name()).orElseThrow(() -> new BadInputException("tensor " + t.name()
                        + " of the aligned model " + alignedDir + " is missing in the base model " + baseDir));
                if (!Arrays.equals(t.shape(), u.shape())) {
                    throw new BadInputException("tensor " + t.name() + " has shape " + t.shapeString()
                            + " in the aligned model " + alignedDir + " but " + u.shapeString()
                            + " in the base model " + baseDir);
                }
                checkFloat(t, "aligned model " + alignedDir);
                checkFloat(u, "base model " + baseDir);
                base.add(u);
            }
            if (sb.all().size() != aligned.size()) {
                for (TensorInfo u : sb.all()) {
                    if (sa.find(u.name()).isEmpty()) {
                        throw new BadInputException("tensor " + u.name() + " of the base model " + baseDir
                                + " is missing in the aligned model " + alignedDir);
                    }
                }
            }
            checkNotAnInput(outFile, sa, sb);
            List<SafeTensorsWriter.TensorSpec> specs = new ArrayList<>();
            long total = 0;
            for (TensorInfo t : aligned) {
                specs.add(new SafeTensorsWriter.TensorSpec(t.name(), DType.F32, t.shape()));
                total += t.elementCount();
            }
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put(KEY_KIND, KIND);
            meta.put(KEY_FORMULA, "aligned - base");
            meta.put(KEY_ALIGNED, alignedDir.toString());
            meta.put(KEY_BASE, baseDir.toString());
            meta.putAll(configMetadata(ca));
            float[] bufA = new float[CHUNK];
            float[] bufB = new float[CHUNK];
            long totalElements = total;
            long[] done = {0};
            float[] maxAbs = {0};
            double[] sumSq = {0};
            SafeTensorsWriter.stream(outFile, meta, specs, (i, spec, sink) -> {
                TensorInfo ta = aligned.get(i);
                TensorInfo tb = base.get(i);
                long n = ta.elementCount();
                for (long from = 0; from < n; from += CHUNK) {
                    int len = (int) Math.min(CHUNK, n - from);
                    TensorStore.readFloats(ta, from, bufA, 0, len);
                    TensorStore.readFloats(tb, from, bufB, 0, len);
                    for (int k = 0; k < len; k++) {
                        float d = bufA[k] - bufB[k];
                        bufA[k] = d;
                        float ad = Math.abs(d);
                        if (ad > maxAbs[0] || Float.isNaN(d)) {
                            maxAbs[0] = ad;
                        }
                        sumSq[0] += (double) d * d;
                    }
                    sink.writeFloats(bufA, 0, len);
                }
                done[0] += n;
                if (progress != null) {
                    progress.update(i + 1, specs.size(), ta.name(), done[0], totalElements);
                }
            });
            return new Result(outFile, specs.size(), total, maxAbs[0], Math.sqrt(sumSq[0]));
        }
    }

    /** Refuses to write over one of the model files being read. */
    private static void checkNotAnInput(Path outFile, TensorStore... stores) throws IOException {
        if (!java.nio.file.Files.exists(outFile)) {
            return;
        }
        for (TensorStore s : stores) {
            for (var f : s.files()) {
                if (java.nio.file.Files.isSameFile(outFile, f.path())) {
                    throw new BadInputException("output " + outFile + " is a weights file of the model "
                            + s.dir() + "; choose another output file");
                }
            }
        }
    }

    private static void checkFloat(TensorInfo t, String where) {
        if (!t.dtype().isFloat32Widenable()) {
            throw new BadInputException("tensor " + t.name() + " of the " + where + " has dtype " + t.dtype()
                    + "; deltas need F32, F16 or BF16 weights");
        }
    }

    /** The config fields a delta records and checks, as {@code rudder.*} metadata strings. */
    static Map<String, String> configMetadata(ModelConfig c) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(KEY_ARCHITECTURE, c.architecture());
        m.put("rudder.model_type", c.modelType());
        m.put("rudder.hidden_size", Integer.toString(c.hiddenSize()));
        m.put("rudder.num_layers", Integer.toString(c.numLayers()));
        m.put("rudder.num_heads", Integer.toString(c.numHeads()));
        m.put("rudder.num_kv_heads", Integer.toString(c.numKvHeads()));
        m.put("rudder.head_dim", Integer.toString(c.headDim()));
        m.put("rudder.intermediate_size", Integer.toString(c.intermediateSize()));
        m.put("rudder.vocab_size", Integer.toString(c.vocabSize()));
        m.put("rudder.tie_word_embeddings", Boolean.toString(c.tieWordEmbeddings()));
        return m;
    }

    /** config.json field name for each recorded key (for messages). */
    static String configFieldName(String key) {
        return switch (key) {
            case KEY_ARCHITECTURE -> "architectures";
            case "rudder.num_layers" -> "num_hidden_layers";
            case "rudder.num_heads" -> "num_attention_heads";
            case "rudder.num_kv_heads" -> "num_key_value_heads";
            default -> key.substring("rudder.".length());
        };
    }

    /**
     * Checks that two configs describe the same architecture and shapes.
     *
     * @throws BadInputException "aligned model A and base model B differ in hidden_size: 192 vs 256"
     */
    static void checkConfigs(ModelConfig x, String xName, ModelConfig y, String yName) {
        Map<String, String> mx = configMetadata(x);
        Map<String, String> my = configMetadata(y);
        for (Map.Entry<String, String> e : mx.entrySet()) {
            String other = my.get(e.getKey());
            if (!Objects.equals(e.getValue(), other)) {
                throw new BadInputException(xName + " and " + yName + " differ in " + configFieldName(e.getKey())
                        + ": " + e.getValue() + " vs " + other + " (a delta needs the same architecture and shapes)");
            }
        }
    }
}

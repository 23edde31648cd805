package dev.rudder.steering.delta;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.gguf.GgufNames;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.io.SafeTensorsFile;
import dev.rudder.runtime.io.TensorInfo;
import dev.rudder.runtime.io.TensorStore;
import dev.rudder.runtime.model.WeightTransform;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Alignment-vector deltas applied to a model: {@code W = W_base + sum_d lambda_d * delta_d}, per tensor, in float32.
 *
 * <p><b>Rounding.</b> For each element, starting from the stored base weight widened to float32, each delta in the
 * order given is added as {@code w = fl(w + fl(lambda * delta))} (two float32 roundings, no fused multiply-add),
 * which is what the golden outputs assume. A delta whose lambda is exactly 0 is skipped, so lambda 0 gives the base
 * weights bit for bit. Tensors no delta names are left alone.
 *
 * <p><b>Use with a model.</b> A {@code DeltaSet} is a {@link WeightTransform}: pass it to {@code Model.load}; each
 * merged tensor array it returns from {@link #apply} is remembered. {@link #setLambda} then re-merges those arrays in
 * place from the base weights (re-read through the base model's memory mapping bound by
 * {@link #checkCompatible}) and the delta files (kept mapped until {@link #close}), without reopening any file.
 * Change lambdas only while no forward pass is running on the model. One {@code DeltaSet} serves one loaded model
 * (the first array handed out per tensor is the one re-merged).
 *
 * <p>For use without a model: {@link #merged(String, float[])} and {@link #mergeInto}.
 */
public final class DeltaSet implements WeightTransform, AutoCloseable {

    /** One delta file and its strength, written {@code FILE:LAMBDA} on the command line. */
    public record Spec(Path file, float lambda) {
        public Spec {
            checkLambda(lambda, file);
        }

        /**
         * Parses {@code FILE:LAMBDA} ({@code FILE} alone means lambda 1).
         *
         * @throws BadInputException when the lambda is not a finite number
         */
        public static Spec parse(String text) {
            int colon = text.lastIndexOf(':');
            if (colon > 0 && colon < text.length() - 1) {
                String tail = text.substring(colon + 1).trim();
                if (tail.matches("[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?")) {
                    return new Spec(Path.of(text.substring(0, colon)), Float.parseFloat(tail));
                }
                if (tail.matches("(?i)[-+]?(nan|inf|infinity)")) {
                    throw new BadInputException("delta " + text.substring(0, colon) + ": strength " + tail
                            + " is not a finite number");
                }
            }
            if (text.isBlank()) {
                throw new BadInputException("empty delta (expected FILE:LAMBDA, e.g. delta.safetensors:0.5)");
            }
            return new Spec(Path.of(text), 1f);
        }
    }

    private record Part(int delta, TensorInfo tensor) {
    }

    private final List<Path> files = new ArrayList<>();
    private final List<SafeTensorsFile> opened = new ArrayList<>();
    private final float[] lambdas;
    private final Map<String, List<Part>> byName = new LinkedHashMap<>();
    private final Map<String, float[]> registered = new LinkedHashMap<>();
    private TensorStore base;
    /** Head size when the base stores q/k rows in llama.cpp's adjacent-pair order (a GGUF file), else 0. */
    private int pairOrderHeadDim;
    private TensorStore ownedBase;
    private final float[] chunk = new float[AlignmentDelta.CHUNK];

    private DeltaSet(List<Spec> specs) {
        lambdas = new float[specs.size()];
        try {
            for (int i = 0; i < specs.size(); i++) {
                Spec s = specs.get(i);
                SafeTensorsFile f = SafeTensorsFile.open(s.file());
                opened.add(f);
                files.add(s.file());
                lambdas[i] = s.lambda();
                String kind = f.metadata().get(AlignmentDelta.KEY_KIND);
                if (kind != null && !kind.equals(AlignmentDelta.KIND)) {
                    throw new BadInputException("delta file " + s.file() + " is not an alignment delta ("
                            + AlignmentDelta.KEY_KIND + " = " + kind + ")");
                }
                for (TensorInfo t : f.tensors()) {
                    if (!t.dtype().isFloat32Widenable()) {
                        throw new BadInputException("tensor " + t.name() + " in delta file " + s.file()
                                + " has dtype " + t.dtype() + ", expected F32");
                    }
                    byName.computeIfAbsent(t.name(), k -> new ArrayList<>()).add(new Part(i, t));
                }
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Opens (memory-maps) the delta files; they stay open until {@link #close}.
     *
     * @throws BadInputException for a file that is not a valid delta
     */
    public static DeltaSet open(List<Spec> specs) {
        return new DeltaSet(List.copyOf(specs));
    }

    /** One delta with strength {@code lambda}. */
    public static DeltaSet open(Path file, float lambda) {
        return open(List.of(new Spec(file, lambda)));
    }

    /** Number of delta files. */
    public int size() {
        return files.size();
    }

    /** File of delta {@code i}. */
    public Path file(int i) {
        return files.get(i);
    }

    /** The {@code __metadata__} of delta {@code i}. */
    public Map<String, String> metadata(int i) {
        return opened.get(i).metadata();
    }

    /** Current strength of delta {@code i}. */
    public synchronized float lambda(int i) {
        return lambdas[i];
    }

    /** Names of all tensors some delta changes. */
    public Set<String> tensorNames() {
        return Collections.unmodifiableSet(byName.keySet());
    }

    /**
     * Checks that every delta fits the model (the config fields recorded in the delta, and every tensor present in
     * the model with the same shape) and binds {@code baseWeights} as the source of base weights for re-merging.
     *
     * @throws BadInputException naming the delta file and the field or tensor that does not match
     */
    public void checkCompatible(ModelConfig config, TensorStore baseWeights) {
        Map<String, String> expected = AlignmentDelta.configMetadata(config);
        String model = baseWeights.dir().toString();
        for (int i = 0; i < files.size(); i++) {
            Map<String, String> md = opened.get(i).metadata();
            for (Map.Entry<String, String> e : expected.entrySet()) {
                String recorded = md.get(e.getKey());
                if (recorded != null && !recorded.equals(e.getValue())) {
                    throw new BadInputException("delta " + files.get(i) + " was computed for a model with "
                            + AlignmentDelta.configFieldName(e.getKey()) + " " + recorded + ", but model " + model
                            + " has " + e.getValue() + " (a delta only fits models of its own architecture)");
                }
            }
        }
        for (Map.Entry<String, List<Part>> e : byName.entrySet()) {
            TensorInfo b = baseWeights.find(e.getKey()).orElse(null);
            for (Part p : e.getValue()) {
                if (b == null) {
                    throw new BadInputException("delta " + files.get(p.delta()) + " has tensor " + e.getKey()
                            + ", which model " + model + " does not have");
                }
                if (!Arrays.equals(b.shape(), p.tensor().shape())) {
                    throw new BadInputException("tensor " + e.getKey() + " has shape " + p.tensor().shapeString()
                            + " in delta " + files.get(p.delta()) + " but " + b.shapeString() + " in model " + model);
                }
            }
        }
        synchronized (this) {
            this.base = baseWeights;
            this.pairOrderHeadDim = baseWeights.qkRowsInPairOrder() ? config.headDim() : 0;
        }
    }

    /**
     * {@link #checkCompatible(ModelConfig, TensorStore)} for a model folder or GGUF file: reads its config and maps its weights
     * (a mapping of its own, closed by {@link #close}) as the base for re-merging.
     */
    public void checkCompatible(Path modelDir) {
        dev.rudder.runtime.io.ModelFiles model = dev.rudder.runtime.io.ModelFiles.open(modelDir);
        TensorStore store = model.store();
        try {
            checkCompatible(model.config(), store);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        synchronized (this) {
            if (ownedBase != null) {
                ownedBase.close();
            }
            ownedBase = store;
        }
    }

    @Override
    public boolean touches(String tensorName) {
        return byName.containsKey(tensorName);
    }

    /**
     * Merges the deltas into {@code stored} (the base tensor widened to float32) in place, remembers the array for
     * {@link #setLambda}, and returns it.
     */
    @Override
    public synchronized float[] apply(String tensorName, float[] stored) {
        mergeInto(tensorName, stored, stored);
        if (touches(tensorName)) {
            // the first array per tensor is the one the model keeps; later calls (e.g. ModelWeights.remerge, which
            // merges into a fresh array and copies it over) must not replace it
            registered.putIfAbsent(tensorName, stored);
        }
        return stored;
    }

    /** A new array {@code base + sum lambda * delta} for one tensor ({@code base} is not changed). */
    public float[] merged(String tensorName, float[] baseValues) {
        float[] out = new float[baseValues.length];
        mergeInto(tensorName, baseValues, out);
        return out;
    }

    /**
     * Writes {@code base + sum lambda * delta} for one tensor into {@code out} ({@code out} may be {@code base}).
     *
     * @throws IllegalArgumentException when the lengths do not match the delta tensor
     */
    public synchronized void mergeInto(String tensorName, float[] baseValues, float[] out) {
        if (out.length != baseValues.length) {
            throw new IllegalArgumentException("base has " + baseValues.length + " values, out " + out.length);
        }
        if (out != baseValues) {
            System.arraycopy(baseValues, 0, out, 0, out.length);
        }
        List<Part> parts = byName.get(tensorName);
        if (parts == null) {
            return;
        }
        for (Part p : parts) {
            if (p.tensor().elementCount() != out.length) {
                throw new IllegalArgumentException("tensor " + tensorName + ": " + out.length
                        + " base values, but delta " + files.get(p.delta()) + " has " + p.tensor().elementCount());
            }
        }
        for (Part p : parts) {
            float lambda = lambdas[p.delta()];
            if (lambda == 0f) {
                continue;
            }
            if (pairOrderHeadDim > 0 && GgufNames.isQueryOrKey(tensorName)) {
                addPairOrder(p.tensor(), lambda, out);
                continue;
            }
            int n = out.length;
            for (int from = 0; from < n; from += chunk.length) {
                int len = Math.min(chunk.length, n - from);
                TensorStore.readFloats(p.tensor(), from, chunk, 0, len);
                for (int k = 0; k < len; k++) {
                    float scaled = lambda * chunk[k];
                    out[from + k] = out[from + k] + scaled;
                }
            }
        }
        checkFinite(tensorName, out, parts);
    }

    /** A merge that overflows (a huge lambda) or meets a NaN in a delta must not reach the model silently. */
    private void checkFinite(String tensorName, float[] merged, List<Part> parts) {
        for (int i = 0; i < merged.length; i++) {
            if (!Float.isFinite(merged[i])) {
                StringBuilder which = new StringBuilder();
                for (Part p : parts) {
                    which.append(which.isEmpty() ? "" : ", ").append(files.get(p.delta())).append(':').append(lambdas[p.delta()]);
                }
                throw new BadInputException("merging " + which + " makes tensor " + tensorName + " non-finite (" + merged[i]
                        + " at index " + i + "): a lambda too large, or a NaN/Inf in the delta");
            }
        }
    }

    /**
     * {@code out += lambda * delta} for a q/k projection of a base whose rows are in llama.cpp's adjacent-pair order
     * (a GGUF file): the delta, computed between Hugging Face checkpoints, is read row by row in that order.
     */
    private void addPairOrder(TensorInfo delta, float lambda, float[] out) {
        int rows = (int) delta.dim(0);
        int cols = delta.rank() == 1 ? 1 : (int) (delta.elementCount() / rows);
        float[] row = cols <= chunk.length ? chunk : new float[cols];
        for (int r = 0; r < rows; r++) {
            TensorStore.readFloats(delta, (long) GgufNames.hfRowOfPairRow(r, pairOrderHeadDim) * cols, row, 0, cols);
            for (int k = 0; k < cols; k++) {
                float scaled = lambda * row[k];
                out[r * cols + k] = out[r * cols + k] + scaled;
            }
        }
    }

    /**
     * Sets the strength of delta {@code i} and re-merges, in place, every tensor array handed out by {@link #apply}.
     *
     * @throws BadInputException when {@code lambda} is not finite
     * @throws IllegalStateException when arrays need re-merging but no base weights were bound
     *                               ({@link #checkCompatible})
     */
    public synchronized void setLambda(int i, float lambda) {
        checkLambda(lambda, files.get(i));
        if (lambdas[i] == lambda && Float.floatToRawIntBits(lambdas[i]) == Float.floatToRawIntBits(lambda)) {
            return;
        }
        float old = lambdas[i];
        lambdas[i] = lambda;
        try {
            remerge();
        } catch (BadInputException e) {
            lambdas[i] = old;   // leave the model as it was, not half re-merged
            remerge();
            throw e;
        }
    }

    /** Sets every strength at once (one re-merge). */
    public synchronized void setLambdas(float... newLambdas) {
        if (newLambdas.length != lambdas.length) {
            throw new IllegalArgumentException(newLambdas.length + " lambdas for " + lambdas.length + " deltas");
        }
        for (int i = 0; i < newLambdas.length; i++) {
            checkLambda(newLambdas[i], files.get(i));
        }
        float[] old = lambdas.clone();
        System.arraycopy(newLambdas, 0, lambdas, 0, lambdas.length);
        try {
            remerge();
        } catch (BadInputException e) {
            System.arraycopy(old, 0, lambdas, 0, lambdas.length);
            remerge();
            throw e;
        }
    }

    /** Recomputes every array handed out by {@link #apply} from the base weights and the current lambdas. */
    public synchronized void remerge() {
        if (registered.isEmpty()) {
            return;
        }
        if (base == null) {
            throw new IllegalStateException("no base weights bound: call checkCompatible(config, store) before "
                    + "changing lambdas of a loaded model");
        }
        for (Map.Entry<String, float[]> e : registered.entrySet()) {
            float[] arr = e.getValue();
            TensorInfo t = base.find(e.getKey()).orElseThrow();
            TensorStore.readFloats(t, 0, arr, 0, arr.length);
            mergeInto(e.getKey(), arr, arr);
        }
    }

    /** Unmaps the delta files; merged arrays handed out stay valid but can no longer be re-merged. */
    @Override
    public synchronized void close() {
        for (SafeTensorsFile f : opened) {
            f.close();
        }
        opened.clear();
        registered.clear();
        if (ownedBase != null) {
            ownedBase.close();
            ownedBase = null;
        }
        base = null;
    }

    /**
     * Strengths beyond this are refused: an alignment vector is a difference of two fine-tunes, so
     * useful strengths are around -2..2; at 1e30 the merged weights are astronomically large and the
     * output garbage, though still finite numbers.
     */
    public static final float MAX_LAMBDA = 1000f;

    private static void checkLambda(float lambda, Path file) {
        if (!Float.isFinite(lambda)) {
            throw new BadInputException("delta " + file + ": strength " + lambda + " is not a finite number");
        }
        if (Math.abs(lambda) > MAX_LAMBDA) {
            throw new BadInputException("delta " + file + ": strength " + lambda + " is outside -" + MAX_LAMBDA + ".." + MAX_LAMBDA
                    + " (useful strengths are around -2..2)");
        }
    }
}

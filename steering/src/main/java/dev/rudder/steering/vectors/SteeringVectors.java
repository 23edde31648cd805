package dev.rudder.steering.vectors;

import dev.rudder.runtime.BadInputException;

import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * An immutable set of per-layer float32 steering directions, {@code layer -> float[hiddenSize]}, with metadata.
 *
 * <h2>Layer numbering</h2>
 * The key {@code l} is the <b>0-based decoder-block index</b>: the vector is added to the <em>output</em> of block
 * {@code l}, i.e. after that block's MLP residual add (the input of block {@code l+1}, or of the final norm for the
 * last block). In files it is the tensor {@code direction.l}.
 * <ul>
 *   <li>This is exactly what llama.cpp means by {@code direction.N} in a control-vector GGUF: llama.cpp adds it to
 *       {@code l_out} of graph layer {@code il = N}, the output of 0-based block {@code N}. No offset is needed
 *       when trading files with llama.cpp.</li>
 *   <li>llama.cpp's loader rejects {@code direction.0}, so a layer-0 vector cannot be exported to llama.cpp
 *       (Rudder itself can read and write it).</li>
 *   <li>llama.cpp's {@code cvector-generator} measures a vector at the output of block {@code il} but saves it as
 *       {@code direction.{il+1}} (Hugging Face {@code hidden_states} numbering), so its vectors are applied one
 *       block after the block they were measured at. Rudder imports such files as they are, with the same
 *       meaning llama.cpp gives them; Rudder's own extraction saves the vector measured at block {@code l} as
 *       {@code direction.l}.</li>
 * </ul>
 *
 * <p>Invariants (checked on construction): at least one vector, no negative layer, all vectors of one length,
 * every component finite. Arrays are copied in and out, so instances are safe to share between threads.
 */
public final class SteeringVectors {

    private final TreeMap<Integer, float[]> vectors;
    private final VectorMetadata metadata;
    private final String source;
    private final int hiddenSize;

    private SteeringVectors(TreeMap<Integer, float[]> vectors, VectorMetadata metadata, String source) {
        this.vectors = vectors;
        this.metadata = metadata;
        this.source = source;
        this.hiddenSize = vectors.firstEntry().getValue().length;
    }

    /**
     * Makes a validated set from {@code layer -> vector} (arrays are copied).
     *
     * @param source where the vectors come from (a file name), used in error messages; null for "(in memory)"
     * @throws BadInputException naming the source and layer on an empty set, a negative layer, vectors of
     *                           different lengths or a NaN/Inf component
     */
    public static SteeringVectors of(Map<Integer, float[]> vectors, VectorMetadata metadata, String source) {
        Objects.requireNonNull(vectors, "vectors");
        String src = source == null ? "(in memory)" : source;
        if (vectors.isEmpty()) {
            throw new BadInputException("vector file " + src + " has no direction.N vectors");
        }
        TreeMap<Integer, float[]> copy = new TreeMap<>();
        int first = -1;
        int len = -1;
        for (Map.Entry<Integer, float[]> e : new TreeMap<>(vectors).entrySet()) {
            int layer = e.getKey();
            float[] v = e.getValue();
            if (layer < 0) {
                throw new BadInputException("vector file " + src + ": negative layer index " + layer);
            }
            if (v == null || v.length == 0) {
                throw new BadInputException("vector file " + src + ": direction." + layer + " is empty");
            }
            if (len < 0) {
                len = v.length;
                first = layer;
            } else if (v.length != len) {
                throw new BadInputException("vector file " + src + ": direction." + layer + " has " + v.length
                        + " elements but direction." + first + " has " + len + " (all vectors must have the "
                        + "model's hidden size)");
            }
            for (int i = 0; i < v.length; i++) {
                if (!Float.isFinite(v[i])) {
                    throw new BadInputException("vector file " + src + ": direction." + layer + " (layer " + layer
                            + ") has a non-finite value " + v[i] + " at index " + i);
                }
            }
            copy.put(layer, v.clone());
        }
        return new SteeringVectors(copy, metadata == null ? VectorMetadata.EMPTY : metadata, src);
    }

    /** Same as {@link #of(Map, VectorMetadata, String)} without a source name. */
    public static SteeringVectors of(Map<Integer, float[]> vectors, VectorMetadata metadata) {
        return of(vectors, metadata, null);
    }

    /** Where these vectors come from (a file name, or {@code "(in memory)"}). */
    public String source() {
        return source;
    }

    public VectorMetadata metadata() {
        return metadata;
    }

    /** Length of every vector (must equal the model's hidden size). */
    public int hiddenSize() {
        return hiddenSize;
    }

    /** The layers that have a vector, ascending. */
    public int[] layers() {
        return vectors.keySet().stream().mapToInt(Integer::intValue).toArray();
    }

    /** Number of layers that have a vector. */
    public int size() {
        return vectors.size();
    }

    /** Smallest layer with a vector. */
    public int firstLayer() {
        return vectors.firstKey();
    }

    /** Largest layer with a vector. */
    public int lastLayer() {
        return vectors.lastKey();
    }

    /** True when block {@code layer} has a vector. */
    public boolean has(int layer) {
        return vectors.containsKey(layer);
    }

    /**
     * A copy of the vector of block {@code layer}.
     *
     * @throws IllegalArgumentException when that layer has none (see {@link #has})
     */
    public float[] vector(int layer) {
        float[] v = vectors.get(layer);
        if (v == null) {
            throw new IllegalArgumentException("no vector for layer " + layer + " in " + source);
        }
        return v.clone();
    }

    /** Component {@code i} of the vector of block {@code layer}. */
    public float get(int layer, int i) {
        float[] v = vectors.get(layer);
        if (v == null) {
            throw new IllegalArgumentException("no vector for layer " + layer + " in " + source);
        }
        return v[i];
    }

    /** L2 norm of the vector of block {@code layer}, accumulated in double. */
    public double norm(int layer) {
        float[] v = vectors.get(layer);
        if (v == null) {
            throw new IllegalArgumentException("no vector for layer " + layer + " in " + source);
        }
        double s = 0;
        for (float x : v) {
            s += (double) x * x;
        }
        return Math.sqrt(s);
    }

    /**
     * Checks that these vectors fit a model before anything runs.
     *
     * @throws BadInputException "vector file X has hidden size 64, model has 192", or "vector file X: layer 9
     *                           outside the model's 6 layers (0-5)" for a vector or for the metadata layer range
     */
    public void checkCompatible(int modelHiddenSize, int numLayers) {
        if (hiddenSize != modelHiddenSize) {
            throw new BadInputException("vector file " + source + " has hidden size " + hiddenSize + ", model has "
                    + modelHiddenSize);
        }
        int last = lastLayer();
        if (last >= numLayers) {
            throw new BadInputException("vector file " + source + ": layer " + last + " outside the model's "
                    + numLayers + " layers (0-" + (numLayers - 1) + ")");
        }
        LayerRange r = metadata.layers();
        if (r != null && r.last() >= numLayers) {
            throw new BadInputException("vector file " + source + ": metadata layer range " + r
                    + " outside the model's " + numLayers + " layers (0-" + (numLayers - 1) + ")");
        }
    }

    /** The same vectors with other metadata. */
    public SteeringVectors withMetadata(VectorMetadata newMetadata) {
        return new SteeringVectors(vectors, newMetadata == null ? VectorMetadata.EMPTY : newMetadata, source);
    }

    /** The same vectors under another source name (for messages). */
    public SteeringVectors withSource(String newSource) {
        return new SteeringVectors(vectors, metadata, newSource == null ? "(in memory)" : newSource);
    }

    /**
     * Only the layers in {@code range}; the metadata layer range becomes {@code range}.
     *
     * @throws BadInputException when no vector lies in the range
     */
    public SteeringVectors select(LayerRange range) {
        TreeMap<Integer, float[]> sub = new TreeMap<>(vectors.subMap(range.first(), true, range.last(), true));
        if (sub.isEmpty()) {
            throw new BadInputException("vector file " + source + " has no vector in layers " + range
                    + " (it has layers " + Arrays.toString(layers()) + ")");
        }
        return new SteeringVectors(sub, metadata.withLayers(range), source);
    }

    /** Every layer scaled to unit L2 norm ({@code (float) (v[i] / norm)}, norm in double); zero vectors stay zero. */
    public SteeringVectors normalized() {
        TreeMap<Integer, float[]> out = new TreeMap<>();
        for (Map.Entry<Integer, float[]> e : vectors.entrySet()) {
            double n = norm(e.getKey());
            float[] v = e.getValue().clone();
            if (n > 0) {
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (v[i] / n);
                }
            }
            out.put(e.getKey(), v);
        }
        return new SteeringVectors(out, metadata, source);
    }

    /** A copy as {@code layer -> vector} (ascending layers). */
    public TreeMap<Integer, float[]> toMap() {
        TreeMap<Integer, float[]> out = new TreeMap<>();
        vectors.forEach((k, v) -> out.put(k, v.clone()));
        return out;
    }

    /** Bitwise equality of the vectors (same layers, same float bits); metadata and source are not compared. */
    public boolean sameVectors(SteeringVectors other) {
        if (!vectors.keySet().equals(other.vectors.keySet())) {
            return false;
        }
        for (Map.Entry<Integer, float[]> e : vectors.entrySet()) {
            float[] a = e.getValue();
            float[] b = other.vectors.get(e.getKey());
            if (a.length != b.length) {
                return false;
            }
            for (int i = 0; i < a.length; i++) {
                if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Equal vectors (bitwise) and equal metadata; the source name is not compared. */
    @Override
    public boolean equals(Object o) {
        return o instanceof SteeringVectors s && sameVectors(s) && metadata.equals(s.metadata);
    }

    @Override
    public int hashCode() {
        int h = metadata.hashCode();
        for (Map.Entry<Integer, float[]> e : vectors.entrySet()) {
            h = h * 31 + e.getKey() * 17 + Arrays.hashCode(e.getValue());
        }
        return h;
    }

    @Override
    public String toString() {
        return "SteeringVectors[" + source + ", hidden " + hiddenSize + ", layers " + Arrays.toString(layers())
                + ", " + metadata + "]";
    }
}

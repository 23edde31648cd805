package dev.rudder.steering.vectors;

import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.tensor.WeightMatrix;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The model a vector or gate file was made on: architecture, sizes, and a fingerprint of a few
 * weight rows (three embedding rows and the final norm, SHA-256, 16 hex digits). Stored in the
 * file's metadata under {@code made_on.*} (plain keys, so they survive the safetensors and GGUF
 * round trips as extra entries); compared when the file is applied, so that vectors made on one
 * model and applied to another of the same shape get a word instead of silence.
 */
public record ModelIdentity(String architecture, int hiddenSize, int numLayers, int vocabSize, String fingerprint) {
    static final String PREFIX = "made_on.";
    static final String KEY_ARCHITECTURE = PREFIX + "architecture";
    static final String KEY_HIDDEN = PREFIX + "hidden_size";
    static final String KEY_LAYERS = PREFIX + "num_hidden_layers";
    static final String KEY_VOCAB = PREFIX + "vocab_size";
    static final String KEY_FINGERPRINT = PREFIX + "fingerprint";

    /** The identity of a loaded model (reads four rows of weights). */
    public static ModelIdentity of(Model model) {
        ModelConfig c = model.config();
        return new ModelIdentity(c.architecture(), c.hiddenSize(), c.numLayers(), c.vocabSize(), fingerprint(model));
    }

    private static String fingerprint(Model model) {
        WeightMatrix emb = model.weights().embedding();
        int cols = emb.cols();
        float[] row = new float[cols];   // [hidden]
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            ByteBuffer buf = ByteBuffer.allocate(4 * cols).order(ByteOrder.LITTLE_ENDIAN);
            for (int r : new int[]{0, emb.rows() / 2, emb.rows() - 1}) {
                emb.readRow(r, row, 0);
                buf.clear();
                for (float x : row) {
                    buf.putFloat(x);
                }
                sha.update(buf.array(), 0, buf.position());
            }
            buf.clear();
            for (float x : model.weights().finalNorm()) {
                buf.putFloat(x);
            }
            sha.update(buf.array(), 0, buf.position());
            return HexFormat.of().formatHex(sha.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** The metadata entries recording this identity. */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(KEY_ARCHITECTURE, architecture);
        m.put(KEY_HIDDEN, Integer.toString(hiddenSize));
        m.put(KEY_LAYERS, Integer.toString(numLayers));
        m.put(KEY_VOCAB, Integer.toString(vocabSize));
        m.put(KEY_FINGERPRINT, fingerprint);
        return m;
    }

    /** {@code metadata} plus this identity (replacing any recorded before). */
    public Map<String, String> addTo(Map<String, String> metadata) {
        Map<String, String> m = new LinkedHashMap<>(metadata);
        m.putAll(toMetadata());
        return m;
    }

    /** The identity recorded in a file's metadata; empty for files made before it was recorded, or by other tools. */
    public static Optional<ModelIdentity> fromMetadata(Map<String, String> m) {
        String fp = m.get(KEY_FINGERPRINT);
        if (fp == null) {
            return Optional.empty();
        }
        return Optional.of(new ModelIdentity(m.getOrDefault(KEY_ARCHITECTURE, "?"), intOr(m.get(KEY_HIDDEN)),
                intOr(m.get(KEY_LAYERS)), intOr(m.get(KEY_VOCAB)), fp));
    }

    private static int intOr(String s) {
        try {
            return s == null ? -1 : Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * A warning when a file made on {@code recorded} is applied to this model, or empty when they
     * agree (shape mismatches are errors elsewhere; this catches same-shape, different weights).
     */
    public Optional<String> mismatchWarning(ModelIdentity recorded, String what) {
        List<String> diffs = new ArrayList<>();
        if (!recorded.architecture.equals(architecture)) {
            diffs.add("architecture " + recorded.architecture + " vs " + architecture);
        }
        if (recorded.numLayers >= 0 && recorded.numLayers != numLayers) {
            diffs.add(recorded.numLayers + " layers vs " + numLayers);
        }
        if (recorded.vocabSize >= 0 && recorded.vocabSize != vocabSize) {
            diffs.add("vocabulary " + recorded.vocabSize + " vs " + vocabSize);
        }
        if (!recorded.fingerprint.equals(fingerprint)) {
            diffs.add("weights fingerprint " + recorded.fingerprint + " vs " + fingerprint);
        }
        if (diffs.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(what + " was made on another model (" + String.join(", ", diffs) + "); fine for InferAligner's "
                + "cross-model guidance, otherwise check that it belongs to this model");
    }
}

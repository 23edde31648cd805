package dev.rudder.steering.extract;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.model.Model;
import dev.rudder.steering.vectors.LayerRange;
import dev.rudder.steering.vectors.SteeringVectors;
import dev.rudder.steering.vectors.VectorMetadata;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Steering vectors from contrasting prompt sets, one vector per block, measured at the last
 * prompt token after the block (block numbering: the vector measured at the output of block l is
 * {@code direction.l}). Memory does not grow with the number of prompts: only running sums are
 * kept (and, for PCA, one hidden x hidden covariance per layer).
 */
public final class VectorExtractor {

    /** How vectors are computed from the two sets. */
    public enum Method {
        /** mean(positive) - mean(negative) (InferAligner's SRV, llama.cpp's mean method) */
        MEAN,
        /** first principal component of the paired differences positive_i - negative_i, oriented so positives project higher */
        PCA
    }

    private VectorExtractor() {
    }

    /**
     * Runs every prompt (already tokenized, e.g. wrapped in the chat template) and returns the
     * vectors of {@code layers} (null = every layer).
     */
    public static SteeringVectors extract(Model model, List<int[]> positive, List<int[]> negative, Method method,
                                          LayerRange layers, PrintStream progress) {
        return extract(model, positive, negative, method, layers, 1, progress);
    }

    /** As above, running up to {@code batch} prompts per layer-major pass (same results, fewer weight reads). */
    public static SteeringVectors extract(Model model, List<int[]> positive, List<int[]> negative, Method method,
                                          LayerRange layers, int batch, PrintStream progress) {
        if (positive.isEmpty() || negative.isEmpty()) {
            throw new BadInputException("need at least one positive and one negative prompt");
        }
        int nl = model.config().numLayers();
        int h = model.config().hiddenSize();
        LayerRange range = layers == null ? new LayerRange(0, nl - 1) : layers;
        if (range.last() >= nl) {
            throw new BadInputException("layer range " + range + " is outside the model's " + nl + " layers (0.." + (nl - 1) + ")");
        }
        LastTokenActivations acts = new LastTokenActivations(model, batch);
        Map<Integer, float[]> out = new TreeMap<>();
        Progress bar = new Progress(progress, "extracting", positive.size() + negative.size());
        if (method == Method.MEAN) {
            double[][] sumPos = new double[nl][h];
            double[][] sumNeg = new double[nl][h];
            int[] done = {0};
            acts.forEach(positive, a -> {
                accumulate(sumPos, a, range);
                bar.update(++done[0]);
            });
            acts.forEach(negative, a -> {
                accumulate(sumNeg, a, range);
                bar.update(++done[0]);
            });
            for (int l = range.first(); l <= range.last(); l++) {
                float[] v = new float[h];
                for (int i = 0; i < h; i++) {
                    v[i] = (float) (sumPos[l][i] / positive.size() - sumNeg[l][i] / negative.size());
                }
                out.put(l, v);
            }
        } else {
            int pairs = Math.min(positive.size(), negative.size());
            if (pairs < 2) {
                throw new BadInputException("PCA needs at least 2 positive/negative pairs");
            }
            PairedPca[] pca = new PairedPca[nl];
            for (int l = range.first(); l <= range.last(); l++) {
                pca[l] = new PairedPca(h);
            }
            // interleave the pairs so each pack holds whole pairs: p0, n0, p1, n1, ...
            List<int[]> interleaved = new java.util.ArrayList<>(2 * pairs);
            for (int i = 0; i < pairs; i++) {
                interleaved.add(positive.get(i));
                interleaved.add(negative.get(i));
            }
            float[][][] pending = new float[1][][];
            int[] done = {0};
            acts.forEach(interleaved, a -> {
                if (pending[0] == null) {
                    pending[0] = a;
                } else {
                    for (int l = range.first(); l <= range.last(); l++) {
                        pca[l].add(pending[0][l], a[l]);
                    }
                    pending[0] = null;
                }
                bar.update(done[0] += 1);
            });
            bar.update(positive.size() + negative.size());
            for (int l = range.first(); l <= range.last(); l++) {
                out.put(l, pca[l].firstComponent());
            }
        }
        VectorMetadata meta = VectorMetadata.EMPTY
                .withMethod(method == Method.MEAN ? "mean_diff" : "pca_diff")
                .withModelHint(model.config().modelType())
                .withLayers(range)
                .withPromptCount(positive.size() + negative.size());
        return SteeringVectors.of(out, meta, "extraction");
    }

    private static void accumulate(double[][] sum, float[][] act, LayerRange range) {
        for (int l = range.first(); l <= range.last(); l++) {
            double[] s = sum[l];
            float[] a = act[l];
            for (int i = 0; i < s.length; i++) {
                s[i] += a[i];
            }
        }
    }
}

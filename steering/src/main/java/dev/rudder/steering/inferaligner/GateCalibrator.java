package dev.rudder.steering.inferaligner;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.model.Model;
import dev.rudder.steering.extract.LastTokenActivations;
import dev.rudder.steering.extract.Progress;
import dev.rudder.steering.vectors.LayerRange;
import dev.rudder.steering.vectors.SteeringVectors;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Chooses InferAligner's gate from labelled prompts: for every candidate layer, the target's own
 * safety vector (unit length) is a probe on the last prompt token; the bias is the threshold that
 * best separates harmful from harmless scores (balanced accuracy, so a large harmless set does not
 * swamp the harmful one). The layer with the best balanced accuracy wins; ties go to the earlier
 * layer, which leaves more layers after the gate for one-pass steering.
 */
public final class GateCalibrator {

    /** Separation achieved at one layer. */
    public record LayerResult(int layer, float bias, double accuracy, double balancedAccuracy,
                              double truePositiveRate, double trueNegativeRate) {
    }

    /** The chosen gate and the per-layer table behind the choice. */
    public record Calibration(GuidanceGate gate, List<LayerResult> layers) {
    }

    private GateCalibrator() {
    }

    public static Calibration calibrate(Model target, SteeringVectors targetVectors, List<int[]> harmful,
                                        List<int[]> harmless, LayerRange candidates, PrintStream progress) {
        return calibrate(target, targetVectors, harmful, harmless, candidates, 1, progress);
    }

    /** As above, running up to {@code batch} prompts per layer-major pass. */
    public static Calibration calibrate(Model target, SteeringVectors targetVectors, List<int[]> harmful,
                                        List<int[]> harmless, LayerRange candidates, int batch, PrintStream progress) {
        if (harmful.isEmpty() || harmless.isEmpty()) {
            throw new BadInputException("calibration needs harmful and harmless prompts");
        }
        int nl = target.config().numLayers();
        targetVectors.checkCompatible(target.config().hiddenSize(), nl);
        LayerRange range = candidates != null ? candidates : new LayerRange(targetVectors.firstLayer(), targetVectors.lastLayer());
        List<Integer> layers = new ArrayList<>();
        for (int l = range.first(); l <= range.last(); l++) {
            if (targetVectors.has(l) && targetVectors.norm(l) > 0) {
                layers.add(l);
            }
        }
        if (layers.isEmpty()) {
            throw new BadInputException("vector file " + targetVectors.source() + " has no usable vector in layers " + range);
        }
        float[][] units = new float[nl][];
        for (int l : layers) {
            units[l] = unit(targetVectors.vector(l), targetVectors.norm(l));
        }
        LastTokenActivations acts = new LastTokenActivations(target, batch);
        float[][] posScores = new float[nl][harmful.size()];
        float[][] negScores = new float[nl][harmless.size()];
        Progress bar = new Progress(progress, "calibrating", harmful.size() + harmless.size());
        int[] done = {0};
        int[] i = {0};
        acts.forEach(harmful, a -> {
            score(a, units, layers, posScores, i[0]++);
            bar.update(++done[0]);
        });
        i[0] = 0;
        acts.forEach(harmless, a -> {
            score(a, units, layers, negScores, i[0]++);
            bar.update(++done[0]);
        });
        List<LayerResult> results = new ArrayList<>();
        LayerResult best = null;
        for (int l : layers) {
            LayerResult r = bestThreshold(l, posScores[l], negScores[l]);
            results.add(r);
            if (best == null || r.balancedAccuracy() > best.balancedAccuracy()) {
                best = r;
            }
        }
        GuidanceGate gate = new GuidanceGate(best.layer(), units[best.layer()], best.bias(), best.balancedAccuracy());
        return new Calibration(gate, results);
    }

    private static void score(float[][] act, float[][] units, List<Integer> layers, float[][] out, int i) {
        for (int l : layers) {
            double s = 0;
            for (int j = 0; j < units[l].length; j++) {
                s += (double) act[l][j] * units[l][j];
            }
            out[l][i] = (float) s;
        }
    }

    static float[] unit(float[] v, double norm) {
        float[] u = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            u[i] = (float) (v[i] / norm);
        }
        return u;
    }

    /** Threshold between consecutive sorted scores maximising balanced accuracy (harmful = score above). */
    static LayerResult bestThreshold(int layer, float[] pos, float[] neg) {
        float[] all = new float[pos.length + neg.length];
        System.arraycopy(pos, 0, all, 0, pos.length);
        System.arraycopy(neg, 0, all, pos.length, neg.length);
        Arrays.sort(all);
        LayerResult best = null;
        for (int c = 0; c <= all.length; c++) {
            float t;
            if (c == 0) {
                t = all[0] - 1f;
            } else if (c == all.length) {
                t = all[all.length - 1] + 1f;
            } else {
                if (all[c] == all[c - 1]) {
                    continue;
                }
                t = (all[c - 1] + all[c]) / 2f;
            }
            int tp = 0;
            for (float s : pos) {
                if (s > t) {
                    tp++;
                }
            }
            int tn = 0;
            for (float s : neg) {
                if (s <= t) {
                    tn++;
                }
            }
            double tpr = (double) tp / pos.length;
            double tnr = (double) tn / neg.length;
            double bal = (tpr + tnr) / 2;
            double acc = (double) (tp + tn) / all.length;
            if (best == null || bal > best.balancedAccuracy()) {
                best = new LayerResult(layer, -t, acc, bal, tpr, tnr);
            }
        }
        return best;
    }
}

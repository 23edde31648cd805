package dev.rudder.runtime.backend.cpu;

import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.io.RopeScaling;

/**
 * Rotary position embedding tables (Hugging Face "rotate_half" layout): for every position up
 * to the context length, cos and sin of {@code pos * invFreq[i]}, i < headDim/2. The inverse
 * frequencies include the checkpoint's {@code rope_scaling} (llama3 bands or linear).
 */
public final class RopeTable {
    private final float[][] cos;   // [contextLength][headDim / 2]
    private final float[][] sin;   // [contextLength][headDim / 2]

    RopeTable(ModelConfig config, int contextLength) {
        double[] invFreq = inverseFrequencies(config);
        int half = invFreq.length;
        cos = new float[contextLength][half];
        sin = new float[contextLength][half];
        for (int p = 0; p < contextLength; p++) {
            for (int i = 0; i < half; i++) {
                // float32 like the reference: freq = fl(pos * fl(invFreq))
                float angle = p * (float) invFreq[i];
                cos[p][i] = (float) Math.cos(angle);
                sin[p][i] = (float) Math.sin(angle);
            }
        }
    }

    float[] cos(int pos) {
        return cos[pos];
    }

    float[] sin(int pos) {
        return sin[pos];
    }

    /** The inverse frequencies {@code [headDim / 2]} with the checkpoint's rope scaling (float32-rounded like the reference). */
    public static double[] inverseFrequencies(ModelConfig config) {
        int dim = config.headDim();
        double[] inv = new double[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            inv[i] = (float) (1.0 / Math.pow(config.ropeTheta(), (2.0 * i) / dim));
        }
        RopeScaling s = config.ropeScaling();
        if (s == null || s.type() == null) {
            return inv;
        }
        switch (s.type()) {
            case "linear" -> {
                for (int i = 0; i < inv.length; i++) {
                    inv[i] = inv[i] / s.factor();
                }
            }
            case "llama3" -> {
                double oldLen = s.originalMaxPositionEmbeddings();
                double lowWavelen = oldLen / s.lowFreqFactor();
                double highWavelen = oldLen / s.highFreqFactor();
                for (int i = 0; i < inv.length; i++) {
                    double freq = inv[i];
                    double wavelen = 2 * Math.PI / freq;
                    if (wavelen < highWavelen) {
                        continue;
                    }
                    if (wavelen > lowWavelen) {
                        inv[i] = freq / s.factor();
                    } else {
                        double smooth = (oldLen / wavelen - s.lowFreqFactor()) / (s.highFreqFactor() - s.lowFreqFactor());
                        inv[i] = (1 - smooth) * freq / s.factor() + smooth * freq;
                    }
                }
            }
            case "default" -> {
            }
            default -> throw new dev.rudder.runtime.BadInputException("unsupported rope_scaling type '" + s.type()
                    + "' (supported: llama3, linear)");
        }
        return inv;
    }
}

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

    /** {@code freqFactors} (may be null): llama.cpp's {@code rope_freqs.weight}, each frequency divided by its factor. */
    RopeTable(ModelConfig config, float[] freqFactors, int contextLength) {
        double[] invFreq = inverseFrequencies(config);
        if (freqFactors != null) {
            for (int i = 0; i < invFreq.length; i++) {
                invFreq[i] = (float) (invFreq[i] / freqFactors[i]);
            }
        }
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

    /**
     * RoPE on adjacent pairs, for q/k rows in llama.cpp's order ({@code x[2i], x[2i+1]} rotated by frequency i): the
     * same rotation as {@link dev.rudder.runtime.kernel.Kernels#rope} applies to HF's {@code x[i], x[i+half]}.
     */
    static void rotatePairs(float[] x, int off, int headDim, float[] cos, float[] sin) {
        for (int i = 0; i < headDim / 2; i++) {
            float c = cos[i];
            float s = sin[i];
            float x1 = x[off + 2 * i];
            float x2 = x[off + 2 * i + 1];
            x[off + 2 * i] = x1 * c - x2 * s;
            x[off + 2 * i + 1] = x2 * c + x1 * s;
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

package dev.rudder.runtime.io;

/**
 * The {@code rope_scaling} block of {@code config.json}.
 *
 * <ul>
 *   <li>{@code "linear"}: positions divided by {@code factor} (only {@code factor} is meaningful; the other
 *       fields are 0).</li>
 *   <li>{@code "llama3"}: Llama 3.1 frequency-band scaling with {@code factor}, {@code low_freq_factor},
 *       {@code high_freq_factor} and {@code original_max_position_embeddings}.</li>
 * </ul>
 */
public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositionEmbeddings) {

    public static final String LINEAR = "linear";
    public static final String LLAMA3 = "llama3";

    public static RopeScaling linear(double factor) {
        return new RopeScaling(LINEAR, factor, 0, 0, 0);
    }

    public static RopeScaling llama3(double factor, double lowFreqFactor, double highFreqFactor,
                                     int originalMaxPositionEmbeddings) {
        return new RopeScaling(LLAMA3, factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings);
    }

    public boolean isLinear() {
        return LINEAR.equals(type);
    }

    public boolean isLlama3() {
        return LLAMA3.equals(type);
    }

    /**
     * The inverse frequencies {@code 1 / theta^(2i/headDim)} for {@code i < headDim/2}, with this scaling applied
     * exactly as Hugging Face {@code _compute_llama3_parameters} / linear scaling do (computed in double).
     * {@code scaling == null} gives the plain frequencies.
     */
    public static double[] inverseFrequencies(int headDim, double theta, RopeScaling scaling) {
        int half = headDim / 2;
        double[] inv = new double[half];
        for (int i = 0; i < half; i++) {
            inv[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
        }
        if (scaling == null) {
            return inv;
        }
        if (scaling.isLinear()) {
            for (int i = 0; i < half; i++) {
                inv[i] /= scaling.factor();
            }
        } else if (scaling.isLlama3()) {
            double lowFreqWavelen = scaling.originalMaxPositionEmbeddings() / scaling.lowFreqFactor();
            double highFreqWavelen = scaling.originalMaxPositionEmbeddings() / scaling.highFreqFactor();
            for (int i = 0; i < half; i++) {
                double wavelen = 2 * Math.PI / inv[i];
                if (wavelen > lowFreqWavelen) {
                    inv[i] = inv[i] / scaling.factor();
                } else if (wavelen >= highFreqWavelen) {
                    double smooth = (scaling.originalMaxPositionEmbeddings() / wavelen - scaling.lowFreqFactor())
                            / (scaling.highFreqFactor() - scaling.lowFreqFactor());
                    inv[i] = (1 - smooth) * inv[i] / scaling.factor() + smooth * inv[i];
                }
            }
        }
        return inv;
    }
}

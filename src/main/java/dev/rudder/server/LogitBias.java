package dev.rudder.server;

import java.util.Arrays;

/**
 * OpenAI's {@code logit_bias}: values from -100 to 100 added to the logits of the given token ids before sampling
 * (-100 in effect bans a token, 100 forces it). Log-probabilities are reported from the logits before the bias.
 */
record LogitBias(int[] ids, float[] values) {
    static final LogitBias NONE = new LogitBias(new int[0], new float[0]);

    boolean isEmpty() {
        return ids.length == 0;
    }

    /** {@code logits} with the bias added, in {@code into} when it has their length (else a new array), returned. */
    float[] apply(float[] logits, float[] into) {
        float[] out = into != null && into.length == logits.length ? into : new float[logits.length];
        System.arraycopy(logits, 0, out, 0, logits.length);
        for (int i = 0; i < ids.length; i++) {
            out[ids[i]] += values[i];
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LogitBias b && Arrays.equals(ids, b.ids) && Arrays.equals(values, b.values);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(ids) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "LogitBias" + Arrays.toString(ids) + Arrays.toString(values);
    }
}

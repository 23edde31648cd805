package dev.rudder.runtime.steer;

import dev.rudder.runtime.BadInputException;

import java.util.Arrays;

/**
 * What one request adds to, and reads from, the residual stream (DESIGN.md §3). Per layer: a
 * vector and scale added after the attention residual add and/or after the MLP residual add
 * (the block output, llama.cpp's {@code l_out}); which positions are steered; which probes are
 * read at the block output; an optional {@link Gate} that switches all steering on or off per
 * request; and whether to capture block outputs at the last prompt token (vector extraction).
 * A plan never touches the weights; {@link #NONE} is the plain model, bit for bit.
 * Build with {@link #builder(int)}; plans are immutable and may be shared between requests.
 */
public final class SteeringPlan {

    /** Which positions get the steering vectors. */
    public enum Positions {
        /** the prompt positions (prefill) only; generated tokens attend to the steered prompt */
        PROMPT,
        /** the generated positions only */
        GENERATED,
        /** every position */
        ALL;

        public boolean prompt() {
            return this != GENERATED;
        }

        public boolean generated() {
            return this != PROMPT;
        }
    }

    public static final SteeringPlan NONE = new Builder(0).build();

    private final int numLayers;
    private final float[][] attnVectors;
    private final float[] attnScales;
    private final float[][] outVectors;
    private final float[] outScales;
    private final float[][] probes;
    private final Positions positions;
    private final Gate gate;
    private final boolean captureBlockOutputs;
    private final boolean empty;

    private SteeringPlan(Builder b) {
        numLayers = b.numLayers;
        attnVectors = b.attnVectors;
        attnScales = b.attnScales;
        outVectors = b.outVectors;
        outScales = b.outScales;
        probes = b.probes;
        positions = b.positions;
        gate = b.gate;
        captureBlockOutputs = b.capture;
        empty = !captureBlockOutputs && gate == null
                && Arrays.stream(attnVectors).allMatch(v -> v == null)
                && Arrays.stream(outVectors).allMatch(v -> v == null)
                && Arrays.stream(probes).allMatch(v -> v == null);
    }

    public static Builder builder(int numLayers) {
        return new Builder(numLayers);
    }

    public boolean isEmpty() {
        return empty;
    }

    /** Number of layers this plan was built for (0 for {@link #NONE}). */
    public int numLayers() {
        return numLayers;
    }

    public float[] attnVector(int layer) {
        return layer < numLayers ? attnVectors[layer] : null;
    }

    public float attnScale(int layer) {
        return layer < numLayers ? attnScales[layer] : 0f;
    }

    public float[] outVector(int layer) {
        return layer < numLayers ? outVectors[layer] : null;
    }

    public float outScale(int layer) {
        return layer < numLayers ? outScales[layer] : 0f;
    }

    public float[] probe(int layer) {
        return layer < numLayers ? probes[layer] : null;
    }

    public Positions positions() {
        return positions;
    }

    public Gate gate() {
        return gate;
    }

    public boolean captureBlockOutputs() {
        return captureBlockOutputs;
    }

    /** Lowest layer index with a steering vector, or -1 if none. */
    public int firstSteeredLayer() {
        for (int l = 0; l < numLayers; l++) {
            if (attnVectors[l] != null || outVectors[l] != null) {
                return l;
            }
        }
        return -1;
    }

    /** Collects a plan; vectors are copied, so later changes to the caller's arrays do not leak in. */
    public static final class Builder {
        private final int numLayers;
        private final float[][] attnVectors;
        private final float[] attnScales;
        private final float[][] outVectors;
        private final float[] outScales;
        private final float[][] probes;
        private Positions positions = Positions.ALL;
        private Gate gate;
        private boolean capture;

        private Builder(int numLayers) {
            this.numLayers = numLayers;
            attnVectors = new float[numLayers][];
            attnScales = new float[numLayers];
            outVectors = new float[numLayers][];
            outScales = new float[numLayers];
            probes = new float[numLayers][];
        }

        /** Adds {@code scale * vector} to the output of block {@code layer} (after its MLP residual add). */
        public Builder blockOutput(int layer, float[] vector, float scale) {
            checkLayer(layer);
            checkFinite(vector, layer);
            outVectors[layer] = vector.clone();
            outScales[layer] = scale;
            return this;
        }

        /** Adds {@code scale * vector} right after the attention residual add of block {@code layer}. */
        public Builder afterAttention(int layer, float[] vector, float scale) {
            checkLayer(layer);
            checkFinite(vector, layer);
            attnVectors[layer] = vector.clone();
            attnScales[layer] = scale;
            return this;
        }

        /** Reads {@code dot(blockOutput(layer), direction)} at the latest position. */
        public Builder probe(int layer, float[] direction) {
            checkLayer(layer);
            checkFinite(direction, layer);
            probes[layer] = direction.clone();
            return this;
        }

        public Builder positions(Positions p) {
            positions = p;
            return this;
        }

        public Builder gate(Gate g) {
            if (g != null) {
                checkLayer(g.layer());
                checkFinite(g.direction(), g.layer());
            }
            gate = g;
            return this;
        }

        /** Keep a copy of every block's output at the last prompt token (vector extraction). */
        public Builder captureBlockOutputs(boolean on) {
            capture = on;
            return this;
        }

        public SteeringPlan build() {
            return new SteeringPlan(this);
        }

        private void checkLayer(int layer) {
            if (layer < 0 || layer >= numLayers) {
                throw new BadInputException("layer " + layer + " is outside the model's " + numLayers
                        + " layers (0.." + (numLayers - 1) + ")");
            }
        }

        private static void checkFinite(float[] v, int layer) {
            for (float f : v) {
                if (!Float.isFinite(f)) {
                    throw new BadInputException("steering vector for layer " + layer + " contains NaN or Inf");
                }
            }
        }
    }
}

package dev.rudder.steering.apply;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.steer.SteeringPlan;
import dev.rudder.steering.inferaligner.GuidanceGate;
import dev.rudder.steering.vectors.LayerRange;
import dev.rudder.steering.vectors.SteeringVectors;

/**
 * A user's steering request, before it meets a model: which vectors, how strongly, at which
 * layers, where in the block, at which positions, and an optional InferAligner gate.
 * {@link #toPlan(ModelConfig)} checks it against the model and builds the runtime's plan.
 *
 * @param vectors   the steering vectors (direction.l added to the output of block l)
 * @param scale     the strength alpha; null = the file's default scale, else 1
 * @param layers    the layers to steer; null = the file's layer range, else every layer in the file
 * @param normalize use {@code theta_l / ||theta_l||} (InferAligner) instead of the stored vector
 * @param point     block output (llama.cpp {@code l_out}) or right after the attention residual add
 * @param positions prompt positions, generated positions, or both
 * @param gate      InferAligner guidance gate, or null to steer every request
 */
public record SteeringSpec(SteeringVectors vectors, Double scale, LayerRange layers, boolean normalize,
                           Point point, SteeringPlan.Positions positions, GuidanceGate gate) {

    /** Where in a block the vector is added. */
    public enum Point { BLOCK_OUTPUT, AFTER_ATTENTION }

    public float effectiveScale() {
        if (scale != null) {
            return scale.floatValue();
        }
        Double d = vectors.metadata().defaultScale();
        return d == null ? 1f : d.floatValue();
    }

    public LayerRange effectiveLayers() {
        if (layers != null) {
            return layers;
        }
        LayerRange stored = vectors.metadata().layers();
        return stored != null ? stored : new LayerRange(vectors.firstLayer(), vectors.lastLayer());
    }

    /**
     * The largest value steering may add to one residual element. Residual streams of real models
     * stay far below this; an addition past it swamps the model and soon overflows float32 in the
     * next norm (its squares are summed), i.e. a silent NaN instead of an answer.
     */
    public static final double MAX_ADDITION = 1e6;

    private void checkMagnitude(LayerRange range, float alpha) {
        for (int l = range.first(); l <= range.last(); l++) {
            if (!vectors.has(l)) {
                continue;
            }
            float[] v = vectors.vector(l);
            double norm = normalize ? vectors.norm(l) : 1;
            double max = 0;
            for (float x : v) {
                max = Math.max(max, Math.abs(x));
            }
            double added = Math.abs((double) alpha) * (norm == 0 ? 0 : max / norm);
            if (added > MAX_ADDITION) {
                throw new BadInputException("steering scale " + alpha + " with vector file " + vectors.source() + " adds up to "
                        + String.format(java.util.Locale.ROOT, "%.3g", added) + " to a residual element at layer " + l
                        + " (limit " + String.format(java.util.Locale.ROOT, "%.0e", MAX_ADDITION)
                        + "): the activations would overflow; use a smaller scale");
            }
        }
    }

    /** Builds the per-request plan; every problem is a {@link BadInputException} before any generation. */
    public SteeringPlan toPlan(ModelConfig config) {
        vectors.checkCompatible(config.hiddenSize(), config.numLayers());
        LayerRange range = effectiveLayers();
        if (range.last() >= config.numLayers()) {
            throw new BadInputException("layer range " + range + " is outside the model's " + config.numLayers()
                    + " layers (0.." + (config.numLayers() - 1) + ")");
        }
        float alpha = effectiveScale();
        if (!Float.isFinite(alpha)) {
            throw new BadInputException("steering scale must be finite, got " + alpha);
        }
        checkMagnitude(range, alpha);
        SteeringPlan.Builder b = SteeringPlan.builder(config.numLayers()).positions(positions);
        int steered = 0;
        for (int l = range.first(); l <= range.last(); l++) {
            if (!vectors.has(l)) {
                continue;
            }
            float[] v = vectors.vector(l);
            if (normalize) {
                double norm = vectors.norm(l);
                if (norm == 0) {
                    continue;
                }
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (v[i] / norm);
                }
            }
            if (point == Point.AFTER_ATTENTION) {
                b.afterAttention(l, v, alpha);
            } else {
                b.blockOutput(l, v, alpha);
            }
            steered++;
        }
        if (steered == 0) {
            throw new BadInputException("vector file " + vectors.source() + " has no vector in layer range " + range
                    + " (it has layers " + java.util.Arrays.toString(vectors.layers()) + ")");
        }
        if (gate != null) {
            gate.checkCompatible(config.hiddenSize(), config.numLayers());
            b.gate(gate.toRuntimeGate());
        }
        return b.build();
    }
}

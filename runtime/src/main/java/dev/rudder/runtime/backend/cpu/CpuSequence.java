package dev.rudder.runtime.backend.cpu;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.backend.GateState;
import dev.rudder.runtime.backend.Sequence;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.steer.SteeringPlan;

import java.util.Arrays;

/** A sequence's state on the heap: KV cache, RoPE tables, gate, probe readings, last hidden state. */
final class CpuSequence implements Sequence {
    final int contextLength;
    final SteeringPlan plan;
    final int keyStride;          // positions per row of the transposed key cache: contextLength rounded up to 16
    final float[][] keyCache;     // [layer][kvDim, keyStride]: keys transposed, a row of positions per head dimension
    final float[][] valueCache;   // [layer][contextLength * kvDim]
    final RopeTable rope;
    final float[] probeScores;    // [layer], NaN where no probe was read
    final float[] lastHidden;     // [hidden]
    GateState gateState;
    float gateScore = Float.NaN;

    CpuSequence(ModelConfig cfg, float[] ropeFreqFactors, int contextLength, SteeringPlan plan) {
        this.contextLength = contextLength;
        this.plan = plan;
        int kvDim = cfg.numKvHeads() * cfg.headDim();
        keyStride = (int) Math.min(Integer.MAX_VALUE, ((long) contextLength + 15) / 16 * 16);
        if ((long) keyStride * kvDim > Integer.MAX_VALUE) {
            throw new BadInputException("context length " + contextLength + " too large for one KV cache array ("
                    + keyStride + " x " + kvDim + " floats); lower --context");
        }
        // KV cache plus RoPE tables, in long arithmetic: a context the heap cannot hold is an error, not an OutOfMemoryError
        long bytes = 2L * cfg.numLayers() * contextLength * kvDim * Float.BYTES + 2L * contextLength * (cfg.headDim() / 2 + 4) * Float.BYTES;
        long max = Runtime.getRuntime().maxMemory();
        if (max != Long.MAX_VALUE && bytes > max / 2) {
            throw new BadInputException(String.format(java.util.Locale.ROOT,
                    "context length %d needs %.1f GiB for the KV cache, more than half of the %.1f GiB the JVM may use;"
                            + " lower --context (or raise -Xmx)", contextLength, bytes / 1073741824.0, max / 1073741824.0));
        }
        keyCache = new float[cfg.numLayers()][keyStride * kvDim];
        valueCache = new float[cfg.numLayers()][contextLength * kvDim];
        rope = new RopeTable(cfg, ropeFreqFactors, contextLength);
        probeScores = new float[cfg.numLayers()];
        Arrays.fill(probeScores, Float.NaN);
        lastHidden = new float[cfg.hiddenSize()];
        gateState = plan.gate() == null ? GateState.NONE : GateState.UNDECIDED;
    }

    @Override
    public int contextLength() {
        return contextLength;
    }

    @Override
    public SteeringPlan plan() {
        return plan;
    }

    @Override
    public GateState gateState() {
        return gateState;
    }

    @Override
    public float gateScore() {
        return gateScore;
    }

    @Override
    public float[] probeScores() {
        return probeScores.clone();
    }

    @Override
    public float[] lastHidden() {
        return lastHidden.clone();
    }
}

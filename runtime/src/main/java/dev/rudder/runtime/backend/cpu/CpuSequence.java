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
    final float[][] keyCache;     // [layer][contextLength * kvDim]
    final float[][] valueCache;   // [layer][contextLength * kvDim]
    final RopeTable rope;
    final float[] probeScores;    // [layer], NaN where no probe was read
    final float[] lastHidden;     // [hidden]
    GateState gate;
    float gateScore = Float.NaN;

    CpuSequence(ModelConfig cfg, float[] ropeFreqFactors, int contextLength, SteeringPlan plan) {
        this.contextLength = contextLength;
        this.plan = plan;
        int kvDim = cfg.numKvHeads() * cfg.headDim();
        if ((long) contextLength * kvDim > Integer.MAX_VALUE) {
            throw new BadInputException("context length " + contextLength + " too large for one KV cache array");
        }
        keyCache = new float[cfg.numLayers()][contextLength * kvDim];
        valueCache = new float[cfg.numLayers()][contextLength * kvDim];
        rope = new RopeTable(cfg, ropeFreqFactors, contextLength);
        probeScores = new float[cfg.numLayers()];
        Arrays.fill(probeScores, Float.NaN);
        lastHidden = new float[cfg.hiddenSize()];
        gate = plan.gate() == null ? GateState.NONE : GateState.UNDECIDED;
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
        return gate;
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

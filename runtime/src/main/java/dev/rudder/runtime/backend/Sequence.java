package dev.rudder.runtime.backend;

import dev.rudder.runtime.steer.SteeringPlan;

/**
 * Backend-owned state of one sequence: its KV cache ({@code [layer][contextLength, kvDim]}),
 * RoPE tables, its steering plan (vectors uploaded where the backend needs them), the gate
 * flag, probe readings per layer and the last hidden state. The reads below may copy from the
 * device.
 */
public interface Sequence extends AutoCloseable {
    int contextLength();

    SteeringPlan plan();

    GateState gateState();

    /** The last gate score, NaN before any decision. */
    float gateScore();

    /** Probe reading per layer at the latest {@link Batch#last} row (NaN where no probe); a copy. */
    float[] probeScores();

    /** The hidden state kept by {@link Backend#keepLastHidden}; a copy. */
    float[] lastHidden();

    @Override
    default void close() {
    }
}

package dev.rudder.runtime.steer;

/**
 * What a request's plan observed: the gate decision and score (NaN when there was no gate),
 * probe readings per layer at the latest position (NaN where no probe), the block outputs at the
 * last prompt token when captured (else null), and whether gating needed a second partial pass.
 */
public record SteeringReport(boolean gateOpen, float gateScore, float[] probeScores, float[][] blockOutputs,
                             boolean recomputed) {
}

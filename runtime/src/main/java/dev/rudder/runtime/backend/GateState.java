package dev.rudder.runtime.backend;

/** The InferAligner gate of one sequence. */
public enum GateState {
    /** the plan has no gate: steering is on wherever its positions say */
    NONE,
    /** gated plan, not decided yet (no prompt has ended) */
    UNDECIDED,
    OPEN,
    CLOSED;

    /** Whether steering applies under this state (undecided counts as open, as for a plan without gate). */
    public boolean steers() {
        return this != CLOSED;
    }
}

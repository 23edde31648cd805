package dev.rudder.runtime.backend;

/** Whether a row of a batch gets its plan's steering vectors at the seam. */
public enum SteerMode {
    OFF,
    ON,
    /** on unless the row's sequence gate is closed (read where the flag lives: on the device for a GPU) */
    IF_GATE_OPEN
}

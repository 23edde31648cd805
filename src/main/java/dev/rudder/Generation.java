package dev.rudder;

import dev.rudder.runtime.generate.Generator;
import dev.rudder.runtime.steer.SteeringReport;

import java.util.List;

/** The outcome of a request: decoded text, generated ids, timings, and what steering observed (gate decision, probe scores). */
public record Generation(String text, List<Integer> tokens, Generator.Result stats, SteeringReport steering) {
}

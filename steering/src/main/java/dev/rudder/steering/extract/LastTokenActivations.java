package dev.rudder.steering.extract;

import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.steer.SteeringPlan;

/**
 * The residual stream after every block at the last prompt token: what InferAligner and
 * repeng-style extraction measure. Each prompt runs alone (no padding, no batching), in one
 * prefill, with an optional steering plan (null = plain model).
 */
public final class LastTokenActivations {
    private final Model model;
    private final SteeringPlan capture;

    public LastTokenActivations(Model model) {
        this.model = model;
        this.capture = SteeringPlan.builder(model.config().numLayers()).captureBlockOutputs(true).build();
    }

    /** {@code [layer][hidden]}: the output of each block at the prompt's last position. */
    public float[][] of(int[] promptIds) {
        Session s = model.newSession(promptIds.length, capture);
        s.prefill(PromptInput.tokens(promptIds));
        return s.report().blockOutputs();
    }
}

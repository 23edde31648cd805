package dev.rudder.steering.extract;

import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.steer.SteeringPlan;

import java.util.List;
import java.util.function.Consumer;

/**
 * The residual stream after every block at the last prompt token: what InferAligner and
 * repeng-style extraction measure. Every prompt is computed as if run alone (no padding); up to
 * {@code batch} prompts share one layer-major pass so the weights are read once per pack.
 */
public final class LastTokenActivations {
    private final Model model;
    private final int batch;
    private final SteeringPlan capture;

    public LastTokenActivations(Model model) {
        this(model, 1);
    }

    public LastTokenActivations(Model model, int batch) {
        if (batch < 1) {
            throw new dev.rudder.runtime.BadInputException("--batch must be at least 1, got " + batch);
        }
        this.model = model;
        this.batch = batch;
        this.capture = SteeringPlan.builder(model.config().numLayers()).captureBlockOutputs(true).build();
    }

    /** {@code [layer][hidden]}: the output of each block at the prompt's last position. */
    public float[][] of(int[] promptIds) {
        Session s = model.newSession(promptIds.length, capture);
        s.prefill(PromptInput.tokens(promptIds));
        return s.report().blockOutputs();
    }

    /**
     * Hands each prompt's {@code [layer][hidden]} block outputs to {@code sink}, in order, packing
     * up to {@code batch} prompts per pass; only one pack is held in memory at a time.
     */
    public void forEach(List<int[]> prompts, Consumer<float[][]> sink) {
        for (int from = 0; from < prompts.size(); from += batch) {
            int to = Math.min(prompts.size(), from + batch);
            if (to - from == 1) {
                sink.accept(of(prompts.get(from)));
                continue;
            }
            int[][] pack = prompts.subList(from, to).toArray(new int[0][]);
            int total = 0;
            for (int[] p : pack) {
                total += p.length;
            }
            float[][][] outs = model.newSession(total, SteeringPlan.NONE).lastTokenBlockOutputs(pack);
            for (float[][] o : outs) {
                sink.accept(o);
            }
        }
    }
}

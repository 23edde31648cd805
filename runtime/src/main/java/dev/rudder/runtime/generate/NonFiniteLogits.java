package dev.rudder.runtime.generate;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.steer.SteeringPlan;

/**
 * NaN or infinite logits mean the output is garbage (sampling would pick an arbitrary token, or
 * the same one forever). Checking the logits costs one pass over the vocabulary per step, far less
 * than the step; only when they are bad is the prompt rerun block by block to name the first
 * block whose output stops being finite, so the user knows which weights (or which steering) to
 * look at.
 */
public final class NonFiniteLogits {
    private NonFiniteLogits() {
    }

    /** Index of the first non-finite value, or -1. */
    public static int firstNonFinite(float[] v) {
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                return i;
            }
        }
        return -1;
    }

    /** After prefill: throws naming the first block whose output is not finite at the prompt's last token. */
    static void checkPrefill(float[] logits, Session session, PromptInput prompt) {
        int bad = firstNonFinite(logits);
        if (bad < 0) {
            return;
        }
        throw new BadInputException("the model's output is not finite (logit " + bad + " = " + logits[bad] + ") for this prompt; "
                + locate(session, prompt) + ". Check the model's weights, and any steering scale, delta lambda or soft prompt");
    }

    /** After a decode step. */
    static void checkDecode(float[] logits, int step) {
        int bad = firstNonFinite(logits);
        if (bad >= 0) {
            throw new BadInputException("the model's output became non-finite (logit " + bad + " = " + logits[bad]
                    + ") at generated token " + step + "; check the steering scale and the weights");
        }
    }

    private static String locate(Session session, PromptInput prompt) {
        if (prompt.tokenIds().size() != prompt.length()) {
            return "the prompt holds embedding rows (soft prompt), so blocks were not traced";
        }
        int[] ids = prompt.tokenIds().stream().mapToInt(Integer::intValue).toArray();
        SteeringPlan plan = session.plan().gate() == null ? session.plan() : SteeringPlan.NONE;
        try {
            Session trace = session.model().newSession(ids.length, plan);
            float[][] blocks = trace.lastTokenBlockOutputs(new int[][]{ids})[0];   // [layer][hidden]
            for (int l = 0; l < blocks.length; l++) {
                int i = firstNonFinite(blocks[l]);
                if (i >= 0) {
                    return "activations first stop being finite in block " + l + " (its output holds " + blocks[l][i]
                            + " at index " + i + " for the last prompt token: look at layer " + l + "'s weights"
                            + (l == 0 ? " and the embedding rows of the prompt" : "") + (plan.numLayers() != 0 ? " and steering at layer " + l : "")
                            + ")";
                }
            }
            return "every block's output is finite, so the final norm (model.norm.weight) or the output projection (lm_head) is at fault";
        } catch (RuntimeException e) {
            return "tracing the blocks failed too (" + e.getMessage() + ")";
        }
    }
}

package dev.rudder.runtime.model;

import dev.rudder.runtime.backend.Activations;
import dev.rudder.runtime.backend.Backend;

import java.util.List;

/** What {@link DecodeBatch} and {@link PromptBatch} share: checking the sessions of one pass, growing its buffers. */
final class JointPass {
    private JointPass() {
    }

    /**
     * Checks that every session belongs to {@code model} and appears once; returns the longest context among them.
     *
     * @throws IllegalArgumentException naming the session that does not
     */
    static int checkSessions(List<Session> sessions, Model model) {
        int context = 0;
        for (int i = 0; i < sessions.size(); i++) {
            Session s = sessions.get(i);
            if (s.model() != model) {
                throw new IllegalArgumentException("session " + i + " belongs to another model");
            }
            for (int j = 0; j < i; j++) {
                if (sessions.get(j) == s) {
                    throw new IllegalArgumentException("session " + i + " appears twice in one batch (also at " + j + ")");
                }
            }
            context = Math.max(context, s.contextLength());
        }
        return context;
    }

    /** {@code act} if it holds {@code rows} rows over {@code context} positions, else new buffers as large as both (the old closed). */
    static Activations fit(Backend be, Activations act, int rows, int context) {
        if (act != null && act.rows() >= rows && act.contextLength() >= context) {
            return act;
        }
        if (act != null) {
            act.close();
        }
        return be.newActivations(Math.max(rows, act == null ? 0 : act.rows()),
                Math.max(context, act == null ? 0 : act.contextLength()));
    }
}

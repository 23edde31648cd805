package dev.rudder.server;

import dev.rudder.runtime.model.DecodeBatch;
import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.model.Session;

import java.util.List;

/**
 * One decode step for several sequences at once: feeds {@code tokens[i]} to {@code sessions.get(i)}
 * and returns each session's logits for its next token (arrays owned by the sessions, valid until
 * their next step). Every row must come out exactly as {@link Session#decode} alone would give it,
 * so that answers do not depend on which other requests are running.
 */
interface BatchDecoder {
    float[][] decode(List<Session> sessions, int[] tokens);

    /** One forward pass for all sessions: one matrix-matrix product per weight, read once per step. Scheduler thread only. */
    static BatchDecoder batched(Model model) {
        return new DecodeBatch(model)::decode;
    }

    /** Decodes the sessions one after another (each reads all the weights once): the reference the batched path must equal. */
    BatchDecoder SEQUENTIAL = (sessions, tokens) -> {
        float[][] out = new float[sessions.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = sessions.get(i).decode(tokens[i]);
        }
        return out;
    };
}

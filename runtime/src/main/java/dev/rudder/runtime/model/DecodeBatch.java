package dev.rudder.runtime.model;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.backend.Activations;
import dev.rudder.runtime.backend.Backend;
import dev.rudder.runtime.backend.Batch;

import java.util.List;

/**
 * Steps several sessions of one model by one token together (a server with requests in flight):
 * one pass through the layers for all of them, each row with its own KV cache, position and
 * steering plan (vectors, positions, gate). Every session's logits are bit-identical to
 * {@code session.decode(token)} alone, whatever else is in the batch: decode rows never share a
 * matrix-matrix product whose rounding depends on the batch.
 *
 * <p>Reuse one {@code DecodeBatch} per scheduler thread (it keeps activation buffers grown to the
 * largest batch and context seen; {@link #close} frees them). Not thread-safe; the sessions must not be used by another
 * thread during {@link #decode}.
 */
public final class DecodeBatch implements AutoCloseable {
    private final Model model;
    private final Backend be;
    private final ForwardPass forward;
    private final Batch batch;
    private Activations act;
    private float[][] out;    // [batch][vocab] views: each session's own logits array

    public DecodeBatch(Model model) {
        this.model = model;
        this.be = model.backend();
        this.forward = model.forwardPass();
        this.batch = new Batch(8);
        this.out = new float[8][];
    }

    /**
     * Feeds {@code tokens[i]} to {@code sessions.get(i)} and returns, per session, the logits for
     * its next token: element {@code i} is the array {@code sessions.get(i).decode} would return
     * (reused by that session's next call). Every input is checked before anything runs, so a
     * bad token or a full context leaves all sessions untouched.
     */
    public float[][] decode(List<Session> sessions, int[] tokens) {
        int n = sessions.size();
        if (tokens.length != n) {
            throw new IllegalArgumentException(n + " sessions but " + tokens.length + " tokens");
        }
        if (n == 0) {
            return new float[0][];
        }
        int context = JointPass.checkSessions(sessions, model);
        for (int i = 0; i < n; i++) {
            try {
                sessions.get(i).checkDecode(tokens[i]);
            } catch (BadInputException e) {
                throw new BadInputException("sequence " + i + " of the batch: " + e.getMessage());
            }
        }
        act = JointPass.fit(be, act, n, context);
        if (out.length < n) {
            out = new float[n][];
        }
        batch.reset(Batch.Kind.DECODE, n);
        for (int i = 0; i < n; i++) {
            Session s = sessions.get(i);
            s.addDecodeRow(batch);
            out[i] = s.logitsBuffer();
        }
        be.embed(act, 0, tokens, n);
        forward.blocks(act, batch, 0, forward.numLayers(), null);
        forward.logits(act, batch, 0, n, out);
        float[][] result = new float[n][];
        for (int i = 0; i < n; i++) {
            sessions.get(i).advance();
            result[i] = out[i];
        }
        return result;
    }

    /** Frees the activation buffers (a later {@link #decode} makes new ones). */
    @Override
    public void close() {
        if (act != null) {
            act.close();
            act = null;
        }
    }
}

package dev.rudder.runtime.model;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.backend.Activations;
import dev.rudder.runtime.backend.Backend;
import dev.rudder.runtime.backend.Batch;
import dev.rudder.runtime.backend.SteerMode;

import java.util.List;

/**
 * Prompt parts of several sessions in one forward pass: one matrix-matrix product per weight for all their rows, as
 * {@link DecodeBatch} does for decode rows. A server whose new requests arrive together prefills them at the
 * efficiency of one long prompt instead of one short prompt after another. Each row comes out bit for bit as its
 * session's own {@link Session#prefill}/{@link Session#prefillPart} gives it: the products' per-output order does not
 * depend on the rows around (prompt parts have at least {@link PromptParts#MIN_ROWS} rows), and each row attends to
 * its own session's cache. Parts that need a pass of their own (a gate to decide at the prompt's end, held parts,
 * captures, embedding rows; see {@link #joins}) go through the session instead.
 */
public final class PromptBatch implements AutoCloseable {
    private final Model model;
    private final Backend be;
    private final ForwardPass forward;
    private final Batch batch = new Batch(64);
    private Activations act;

    public PromptBatch(Model model) {
        this.model = model;
        this.be = model.backend();
        this.forward = model.forwardPass();
    }

    /** Whether {@code part} of {@code session} can run in a joint pass ({@code end}: it ends the prompt). */
    public static boolean joins(Session session, PromptInput part, boolean end) {
        return session.jointPromptSteer(part, end) != null;
    }

    /**
     * Appends {@code parts.get(i)} to {@code sessions.get(i)}: as {@link Session#prefill} when {@code ends[i]} (element
     * {@code i} of the result is then the array that call would return), else as {@link Session#prefillPart} (element
     * {@code i} null). Every part must {@link #joins join}; all are checked before anything runs.
     *
     * @throws BadInputException naming the sequence whose part is bad (a token outside the vocabulary, no room)
     * @throws IllegalArgumentException for a part that cannot join, a session of another model or one given twice
     */
    public float[][] prefill(List<Session> sessions, List<PromptInput> parts, boolean[] ends) {
        int n = sessions.size();
        if (parts.size() != n || ends.length != n) {
            throw new IllegalArgumentException(n + " sessions, " + parts.size() + " parts, " + ends.length + " end flags");
        }
        int context = JointPass.checkSessions(sessions, model);
        SteerMode[] steer = new SteerMode[n];
        int rows = 0;
        for (int i = 0; i < n; i++) {
            try {
                steer[i] = sessions.get(i).jointPromptSteer(parts.get(i), ends[i]);
            } catch (BadInputException e) {
                throw new BadInputException("sequence " + i + " of the batch: " + e.getMessage());
            }
            if (steer[i] == null) {
                throw new IllegalArgumentException("the part of sequence " + i + " needs a pass of its own");
            }
            rows += parts.get(i).length();
        }
        float[][] out = new float[n][];
        if (n == 0) {
            return out;
        }
        act = JointPass.fit(be, act, rows, context);
        batch.reset(Batch.Kind.PROMPT, rows);
        int[] ids = new int[rows];   // [rows] every part's tokens, in order
        int row = 0;
        for (int i = 0; i < n; i++) {
            PromptInput p = parts.get(i);
            sessions.get(i).addPromptRows(batch, p, steer[i]);
            for (int t = 0; t < p.length(); t++) {
                ids[row++] = p.token(t);
            }
        }
        be.embed(act, 0, ids, rows);
        forward.blocks(act, batch, 0, forward.numLayers(), null);
        float[][] one = new float[1][];
        row = 0;
        for (int i = 0; i < n; i++) {
            Session s = sessions.get(i);
            row += parts.get(i).length();
            if (ends[i]) {
                one[0] = s.logitsBuffer();
                forward.logits(act, batch, row - 1, 1, one);
                out[i] = one[0];
            }
            s.advance(parts.get(i).length());
        }
        return out;
    }

    /** Frees the activation buffers (a later {@link #prefill} makes new ones). */
    @Override
    public void close() {
        if (act != null) {
            act.close();
            act = null;
        }
    }
}

package dev.rudder.runtime.model;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.backend.Activations;
import dev.rudder.runtime.backend.Backend;
import dev.rudder.runtime.backend.Batch;
import dev.rudder.runtime.backend.GateState;
import dev.rudder.runtime.backend.Sequence;
import dev.rudder.runtime.backend.SteerMode;
import dev.rudder.runtime.steer.Gate;
import dev.rudder.runtime.steer.SteeringPlan;
import dev.rudder.runtime.steer.SteeringReport;

/**
 * One request against a {@link Model}: its sequence on the backend (KV cache, steering, gate),
 * its position and activation buffers. Prefill is batched and layer-major (every prompt
 * position goes through block 0, then block 1, ...), so weights are read once per prompt and a
 * gate read after block {@code g} can switch steering on for later blocks in the same pass.
 * Decode runs the same forward pass with one row, or with rows of several sessions at once
 * through {@link DecodeBatch}. Not thread-safe: one session per request. {@link #close} frees
 * the backend's buffers at once (device memory on a GPU); a session never closed is freed when
 * it becomes unreachable, as far as its backend arranges that.
 */
public final class Session implements AutoCloseable {
    private final Model model;
    private final Backend be;
    private final ForwardPass forward;
    private final Sequence seq;
    private final SteeringPlan plan;
    private final int contextLength;
    private final int hidden;
    private final int vocab;
    private final int numLayers;

    private Activations act;                 // grown to the largest prompt seen
    private final Batch batch = new Batch(1);
    private final float[] logits;            // [vocab] logits at the latest position
    private final float[][] logitsOut;       // {logits}
    private final int[] oneToken = new int[1];
    private final float[][] captured;        // [layer][hidden] block outputs at the last prompt token, or null
    private PromptInput pending;             // parts of a gated prompt held until it ends (see prefillPart)
    private int pos;
    private boolean recomputed;
    private boolean closed;

    Session(Model model, int contextLength, SteeringPlan plan) {
        this.model = model;
        this.be = model.backend();
        this.forward = model.forwardPass();
        this.plan = plan;
        if (contextLength < 1) {
            throw new BadInputException("context length must be at least 1, got " + contextLength);
        }
        int layers = model.config().numLayers();
        if (plan.numLayers() != 0 && plan.numLayers() != layers) {
            throw new BadInputException("steering plan is for " + plan.numLayers() + " layers, the model has " + layers);
        }
        this.contextLength = contextLength;
        this.numLayers = layers;
        hidden = model.config().hiddenSize();
        vocab = model.config().vocabSize();
        seq = be.newSequence(contextLength, plan, model.kvCache());
        logits = new float[vocab];
        logitsOut = new float[][]{logits};
        captured = plan.captureBlockOutputs() ? new float[layers][hidden] : null;
    }

    /** Tokens this session holds (including prompt parts held by {@link #prefillPart}). */
    public int position() {
        return pos + (pending == null ? 0 : pending.length());
    }

    /**
     * Forgets every position from {@code newPosition} on, so the next prefill continues after
     * the first {@code newPosition} tokens (e.g. a chat whose new prompt shares that prefix).
     * The cache entries before it are kept; those after it are overwritten by later calls.
     */
    public void rewind(int newPosition) {
        if (pending != null) {
            throw new IllegalStateException("cannot rewind while prompt parts are held; finish the prompt with prefill first");
        }
        if (newPosition < 0 || newPosition > pos) {
            throw new IllegalArgumentException("cannot rewind to " + newPosition + " from position " + pos);
        }
        pos = newPosition;
    }

    public int contextLength() {
        return contextLength;
    }

    public Model model() {
        return model;
    }

    public SteeringPlan plan() {
        return plan;
    }

    /**
     * Runs the prompt (appended after whatever this session already holds) and returns the
     * logits at its last position. The prompt ends here: a gated plan decides its gate at this
     * call's last token (if not decided before). The returned array is reused by the next call.
     */
    public float[] prefill(PromptInput input) {
        checkOpen();
        runPrompt(pending == null ? input : pending.then(input), null);
        pending = null;
        return logits;
    }

    /** Like {@link #prefill} but returns the logits at every prompt position ({@code [n][vocab]}). */
    public float[][] prefillAllLogits(PromptInput input) {
        checkOpen();
        if (pending != null) {
            throw new IllegalStateException("prompt parts are held: finish the prompt with prefill");
        }
        float[][] all = new float[input.length()][];
        runPrompt(input, all);
        return all;
    }

    /**
     * Appends a part of a prompt that does not end it (chunked prefill, e.g. a server running
     * decode steps of other requests between chunks); the last part goes through
     * {@link #prefill}. Split by {@link PromptParts#sizes}, the parts give the logits, cache and
     * gate of the whole prompt in one {@link #prefill} call bit for bit. For a gated plan still undecided the
     * gate must see the prompt's last token first, so when the plan steers prompt positions the
     * part is held (checked, not run) and runs with the last part, and when it steers only
     * generated positions the part runs now, unsteered, and the gate is decided at the end.
     */
    public void prefillPart(PromptInput input) {
        checkOpen();
        checkPrompt(input, position());
        boolean hold = seq.gateState() == GateState.UNDECIDED && plan.positions().prompt() && plan.firstSteeredLayer() >= 0;
        if (hold) {
            pending = pending == null ? input : pending.then(input);
        } else if (seq.gateState() == GateState.UNDECIDED) {
            runChunk(input, SteerMode.OFF);
        } else {
            runChunk(input, plan.positions().prompt() && seq.gateState().steers() ? SteerMode.ON : SteerMode.OFF);
        }
    }

    /**
     * Runs several independent prompts in one layer-major pass (each attends only to itself and
     * starts at position 0, exactly as if run alone) and returns, per prompt, every block's output
     * at its last token ({@code [prompt][layer][hidden]}). Weights are read once for the whole
     * pack, which makes vector extraction and gate calibration several times faster. Needs a fresh
     * session whose context holds all prompts together; steering vectors apply to every row, gates
     * are not supported here.
     */
    public float[][][] lastTokenBlockOutputs(int[][] prompts) {
        checkOpen();
        if (pos != 0 || pending != null) {
            throw new IllegalStateException("packed prefill needs a fresh session");
        }
        if (plan.gate() != null) {
            throw new BadInputException("a gated plan decides per prompt; run gated prompts one at a time");
        }
        int n = 0;
        for (int[] p : prompts) {
            if (p.length == 0) {
                throw new BadInputException("the prompt is empty: give at least one token");
            }
            n += p.length;
        }
        checkRoom(pos, n);
        Activations a = activations(n);
        SteerMode steer = plan.positions().prompt() ? SteerMode.ON : SteerMode.OFF;
        batch.reset(Batch.Kind.PROMPT, n);
        int[] captureRows = new int[prompts.length];
        float[][][] out = new float[prompts.length][numLayers][hidden];
        int[] ids = new int[n];
        int row = 0;
        for (int j = 0; j < prompts.length; j++) {
            for (int t = 0; t < prompts[j].length; t++) {
                ids[row] = prompts[j][t];
                checkToken(ids[row]);
                // packed in one cache: row r sits at slot r, its own prompt starts at slot r - t
                batch.add(seq, row, t, row - t, steer, row == n - 1);
                row++;
            }
            captureRows[j] = row - 1;
        }
        be.embed(a, 0, ids, n);
        forward.blocks(a, batch, 0, numLayers, layer -> {
            for (int j = 0; j < captureRows.length; j++) {
                be.readResidual(a, captureRows[j], out[j][layer]);
            }
        });
        pos += n;
        return out;
    }

    /** Feeds one generated token and returns the logits for the next (array reused by the next call). */
    public float[] decode(int token) {
        checkDecode(token);
        Activations a = activations(1);
        batch.reset(Batch.Kind.DECODE, 1);
        addDecodeRow(batch);
        oneToken[0] = token;
        be.embed(a, 0, oneToken, 1);
        forward.blocks(a, batch, 0, numLayers, null);
        forward.logits(a, batch, 0, 1, logitsOut);
        pos += 1;
        return logits;
    }

    /** The final hidden state (after the last block, before the final norm) of the latest position. */
    public float[] lastHiddenState() {
        return seq.lastHidden();
    }

    public SteeringReport report() {
        return new SteeringReport(seq.gateState().steers(), seq.gateScore(), seq.probeScores(),
                captured == null ? null : deepCopy(captured), recomputed);
    }

    /** The gate of this request: {@link GateState#NONE} without a gate, else undecided, open or closed. */
    public GateState gateState() {
        return seq.gateState();
    }

    /** Frees the KV cache and activation buffers on the backend; later prefill and decode calls throw. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (act != null) {
            act.close();
            act = null;
        }
        seq.close();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the session is closed");
        }
    }

    // ---------------------------------------------------------------- decode rows (also for DecodeBatch)

    /** Checks that {@code token} can be decoded next; throws before anything runs. */
    void checkDecode(int token) {
        checkOpen();
        if (pending != null) {
            throw new IllegalStateException("prompt parts are held: finish the prompt with prefill before decoding");
        }
        checkToken(token);
        checkRoom(pos, 1);
    }

    /** Adds this session's next position as a decode row of {@code b}. */
    void addDecodeRow(Batch b) {
        SteerMode steer = plan.positions().generated() ? SteerMode.IF_GATE_OPEN : SteerMode.OFF;
        b.add(seq, pos, pos, 0, steer, true);
    }

    /** The array {@link #decode} returns; a batched step writes this session's logits into it. */
    float[] logitsBuffer() {
        return logits;
    }

    /** After a batched step: this session holds one more position. */
    void advance() {
        pos += 1;
    }

    // ---------------------------------------------------------------- prompt rows (for PromptBatch)

    /**
     * The steering of {@code part}'s rows if it can run in a {@link PromptBatch} pass with other sessions' parts, exactly
     * as {@link #prefill} ({@code end}) or {@link #prefillPart} would run it alone; null when it needs a pass of its own:
     * a gate still to decide at the prompt's end, parts held for a gated plan, block outputs to capture, embedding rows,
     * fewer rows than {@link PromptParts#MIN_ROWS}.
     */
    SteerMode jointPromptSteer(PromptInput part, boolean end) {
        checkOpen();
        checkPrompt(part, pos);
        if (part.length() < PromptParts.MIN_ROWS) {
            return null;   // alone it takes the matrix-vector path, which rounds differently
        }
        for (int i = 0; i < part.length(); i++) {
            if (!part.isToken(i)) {
                return null;
            }
        }
        GateState gs = seq.gateState();
        boolean steerPrompt = plan.positions().prompt();
        if (pending != null || captured != null) {
            return null;
        }
        if (gs == GateState.UNDECIDED) {
            // prefillPart runs such a part unsteered unless it would hold it; the end decides the gate: alone
            boolean hold = steerPrompt && plan.firstSteeredLayer() >= 0;
            return end || hold ? null : SteerMode.OFF;
        }
        return steerPrompt && gs.steers() ? SteerMode.ON : SteerMode.OFF;
    }

    /** Adds {@code part}'s rows to {@code b} at this session's next positions (its last row marked last). */
    void addPromptRows(Batch b, PromptInput part, SteerMode steer) {
        int n = part.length();
        for (int i = 0; i < n; i++) {
            b.add(seq, pos + i, pos + i, 0, steer, i == n - 1);
        }
    }

    /** After a joint pass: this session holds {@code n} more positions. */
    void advance(int n) {
        pos += n;
    }

    // ---------------------------------------------------------------- prompt

    private void runPrompt(PromptInput input, float[][] allLogits) {
        int n = input.length();
        Activations a = embedPrompt(input);
        boolean steerPrompt = plan.positions().prompt();
        GateState gs = seq.gateState();
        Gate g = plan.gate();
        int first = plan.firstSteeredLayer();
        ForwardPass.BlockObserver capture = captured == null ? null : layer -> be.readResidual(a, n - 1, captured[layer]);
        if (gs != GateState.UNDECIDED) {
            // no gate, or decided by an earlier prompt
            batch.steerAll(steerPrompt && gs.steers() ? SteerMode.ON : SteerMode.OFF);
            forward.blocks(a, batch, 0, numLayers, capture);
        } else if (!steerPrompt || first < 0 || first > g.layer()) {
            // one pass: the gate is decided before the first steered layer runs
            batch.steerAll(SteerMode.OFF);
            forward.blocks(a, batch, 0, g.layer() + 1, capture);
            be.decideGate(a, batch, n - 1);
            batch.steerAll(steerPrompt ? SteerMode.IF_GATE_OPEN : SteerMode.OFF);
            forward.blocks(a, batch, g.layer() + 1, numLayers, capture);
        } else {
            // steered layers at or below the gate layer: run unsteered up to the gate, and if it
            // opens, redo only the layers from the first steered one with steering
            batch.steerAll(SteerMode.OFF);
            forward.blocks(a, batch, 0, first, capture);
            be.saveResidual(a, n);
            forward.blocks(a, batch, first, g.layer() + 1, capture);
            be.decideGate(a, batch, n - 1);
            if (seq.gateState() == GateState.OPEN) {
                be.restoreResidual(a, n);
                batch.steerAll(SteerMode.ON);
                forward.blocks(a, batch, first, numLayers, capture);
                recomputed = true;
            } else {
                forward.blocks(a, batch, g.layer() + 1, numLayers, capture);
            }
        }
        if (allLogits != null) {
            for (int i = 0; i < n; i++) {
                allLogits[i] = new float[vocab];
            }
            forward.logits(a, batch, 0, n, allLogits);
            System.arraycopy(allLogits[n - 1], 0, logits, 0, vocab);
        } else {
            forward.logits(a, batch, n - 1, 1, logitsOut);
        }
        pos += n;
    }

    /** A prompt part run with fixed steering and no gate decision (see {@link #prefillPart}). */
    private void runChunk(PromptInput input, SteerMode steer) {
        Activations a = embedPrompt(input);
        batch.steerAll(steer);
        forward.blocks(a, batch, 0, numLayers, null);
        pos += input.length();
    }

    /** Checks the prompt, fills the batch table with its rows and embeds them. */
    private Activations embedPrompt(PromptInput input) {
        int n = input.length();
        checkPrompt(input, pos);
        Activations a = activations(n);
        batch.reset(Batch.Kind.PROMPT, n);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            batch.add(seq, pos + i, pos + i, 0, SteerMode.OFF, i == n - 1);
            ids[i] = input.isToken(i) ? input.token(i) : -1;
        }
        // runs of token ids in one gather each; embedding rows copied in as given
        for (int i = 0; i < n; ) {
            int end = i;
            while (end < n && ids[end] >= 0) {
                end++;
            }
            if (end > i) {
                be.embed(a, i, java.util.Arrays.copyOfRange(ids, i, end), end - i);
                i = end;
            } else {
                be.embedValues(a, i, input.embedding(i));
                i++;
            }
        }
        return a;
    }

    private void checkPrompt(PromptInput input, int at) {
        int n = input.length();
        if (n == 0) {
            throw new BadInputException("the prompt is empty: give at least one token");
        }
        checkRoom(at, n);
        for (int i = 0; i < n; i++) {
            if (input.isToken(i)) {
                checkToken(input.token(i));
            } else if (input.embedding(i).length != hidden) {
                throw new BadInputException("embedding row " + i + " has " + input.embedding(i).length
                        + " values, the model's hidden size is " + hidden);
            }
        }
    }

    private void checkToken(int id) {
        if (id < 0 || id >= vocab) {
            throw new BadInputException("token id " + id + " is outside the vocabulary (0.." + (vocab - 1) + ")");
        }
    }

    private void checkRoom(int at, int n) {
        if (at + n > contextLength) {
            throw new BadInputException((at == 0 ? "prompt of " + n + " tokens" : n + " more tokens after " + at)
                    + " does not fit the context length of " + contextLength
                    + (at == 0 ? " (raise the context length or shorten the prompt)" : ""));
        }
    }

    private Activations activations(int rows) {
        if (act == null || act.rows() < rows) {
            if (act != null) {
                act.close();
            }
            act = be.newActivations(rows, contextLength);
        }
        return act;
    }

    private static float[][] deepCopy(float[][] a) {
        float[][] c = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }
}

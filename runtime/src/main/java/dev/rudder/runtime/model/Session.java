package dev.rudder.runtime.model;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.kernel.Kernels;
import dev.rudder.runtime.parallel.WorkerPool;
import dev.rudder.runtime.steer.Gate;
import dev.rudder.runtime.steer.SteeringPlan;
import dev.rudder.runtime.steer.SteeringReport;
import dev.rudder.runtime.tensor.WeightMatrix;

import java.util.Arrays;

/**
 * One request against a {@link Model}: its KV cache, activation buffers, position and steering.
 * Prefill is batched and layer-major (every prompt position goes through block 0, then block 1,
 * ...), so weights are read once per prompt and a gate read after block {@code g} can switch
 * steering on for later blocks in the same pass. Decode runs the same code with one position.
 * Not thread-safe: one session per request.
 */
public final class Session {
    private final Model model;
    private final ModelConfig cfg;
    private final ModelWeights w;
    private final Kernels k;
    private final WorkerPool pool;
    private final SteeringPlan plan;
    private final Rope rope;
    private final int contextLength;
    private final int hidden;
    private final int headDim;
    private final int nHeads;
    private final int nKv;
    private final int qDim;
    private final int kvDim;
    private final int inter;
    private final int vocab;
    private final float eps;

    private final float[][] keyCache;    // [layer][pos * kvDim]
    private final float[][] valueCache;
    private final float[][] att;         // [head][contextLength] attention scores
    private final float[] logits;
    private final float[] lastHidden;

    // activation buffers, grown to the largest batch seen
    private int capacity;
    private float[] x;
    private float[] xb;
    private float[] q;
    private float[] kb;
    private float[] vb;
    private float[] attnOut;
    private float[] proj;
    private float[] gate;
    private float[] up;
    private int[] rowPos;      // RoPE position of each row of the batch
    private int[] rowStart;    // first cache index each row may attend to (0, or its sequence start when packed)
    private int[] captureRows; // rows whose block outputs are captured (packed prefill), else null
    private float[][][] packedCaptured;

    private int pos;
    // steering state
    private Boolean gateOpen;            // null until decided
    private float gateScore = Float.NaN;
    private boolean recomputed;
    private final float[] probeScores;
    private final float[][] captured;

    // per-call parameters of the parallel tasks (kept in fields so the tasks allocate nothing)
    private int batch;
    private int layerIdx;
    private final MatmulTask matmul = new MatmulTask();
    private final WorkerPool.RangeTask attentionTask = this::attentionHeads;

    Session(Model model, int contextLength, SteeringPlan plan) {
        this.model = model;
        this.cfg = model.config();
        this.w = model.weights();
        this.k = model.kernels();
        this.pool = model.pool();
        this.plan = plan;
        if (contextLength < 1) {
            throw new BadInputException("context length must be at least 1, got " + contextLength);
        }
        if (plan.numLayers() != 0 && plan.numLayers() != cfg.numLayers()) {
            throw new BadInputException("steering plan is for " + plan.numLayers() + " layers, the model has "
                    + cfg.numLayers());
        }
        this.contextLength = contextLength;
        hidden = cfg.hiddenSize();
        headDim = cfg.headDim();
        nHeads = cfg.numHeads();
        nKv = cfg.numKvHeads();
        qDim = nHeads * headDim;
        kvDim = nKv * headDim;
        inter = cfg.intermediateSize();
        vocab = cfg.vocabSize();
        eps = (float) cfg.rmsNormEps();
        rope = new Rope(cfg, w.ropeFreqFactors, contextLength);
        keyCache = new float[cfg.numLayers()][(long) contextLength * kvDim > Integer.MAX_VALUE ? fail() : contextLength * kvDim];
        valueCache = new float[cfg.numLayers()][contextLength * kvDim];
        att = new float[nHeads][contextLength];
        logits = new float[vocab];
        lastHidden = new float[hidden];
        probeScores = new float[cfg.numLayers()];
        Arrays.fill(probeScores, Float.NaN);
        captured = plan.captureBlockOutputs() ? new float[cfg.numLayers()][hidden] : null;
        ensureCapacity(1);
    }

    private static int fail() {
        throw new BadInputException("context length too large for one KV cache array");
    }

    public int position() {
        return pos;
    }

    /**
     * Forgets every position from {@code newPosition} on, so the next prefill continues after
     * the first {@code newPosition} tokens (e.g. a chat whose new prompt shares that prefix).
     * The cache entries before it are kept; those after it are overwritten by later calls.
     */
    public void rewind(int newPosition) {
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

    /**
     * Runs the prompt (appended after whatever this session already holds) and returns the
     * logits at its last position. The returned array is reused by the next call.
     */
    public float[] prefill(PromptInput input) {
        runPrompt(input, null);
        return logits;
    }

    /** Like {@link #prefill} but returns the logits at every prompt position ({@code [n][vocab]}). */
    public float[][] prefillAllLogits(PromptInput input) {
        float[][] all = new float[input.length()][];
        runPrompt(input, all);
        return all;
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
        if (pos != 0) {
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
        checkRoom(n);
        ensureCapacity(n);
        captureRows = new int[prompts.length];
        packedCaptured = new float[prompts.length][cfg.numLayers()][hidden];
        int row = 0;
        for (int j = 0; j < prompts.length; j++) {
            for (int t = 0; t < prompts[j].length; t++) {
                int id = prompts[j][t];
                checkToken(id);
                embed(id, row);
                rowPos[row] = t;
                rowStart[row] = row - t;
                row++;
            }
            captureRows[j] = row - 1;
        }
        try {
            forward(n, plan.positions().prompt() ? 1f : 0f, 0, cfg.numLayers(), true);
            return packedCaptured;
        } finally {
            pos += n;
            captureRows = null;
            packedCaptured = null;
        }
    }

    /** Feeds one generated token and returns the logits for the next (array reused by the next call). */
    public float[] decode(int token) {
        checkToken(token);
        checkRoom(1);
        plainRows(1);
        embed(token, 0);
        boolean steer = plan.positions().generated() && gateOpen != Boolean.FALSE;
        forward(1, steer ? 1f : 0f, 0, cfg.numLayers(), false);
        logitsFor(0, logits);
        pos += 1;
        return logits;
    }

    /** The final hidden state (after the last block, before the final norm) of the latest position. */
    public float[] lastHiddenState() {
        return lastHidden.clone();
    }

    public SteeringReport report() {
        return new SteeringReport(gateOpen == null || gateOpen, gateScore, probeScores.clone(),
                captured == null ? null : deepCopy(captured), recomputed);
    }

    private static float[][] deepCopy(float[][] a) {
        float[][] c = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }

    // ---------------------------------------------------------------- prompt

    private void runPrompt(PromptInput input, float[][] allLogits) {
        int n = input.length();
        if (n == 0) {
            throw new BadInputException("the prompt is empty: give at least one token");
        }
        checkRoom(n);
        ensureCapacity(n);
        plainRows(n);
        for (int i = 0; i < n; i++) {
            if (input.isToken(i)) {
                int id = input.token(i);
                checkToken(id);
                embed(id, i);
            } else {
                float[] row = input.embedding(i);
                if (row.length != hidden) {
                    throw new BadInputException("embedding row " + i + " has " + row.length + " values, the model's hidden size is " + hidden);
                }
                System.arraycopy(row, 0, x, i * hidden, hidden);
            }
        }
        int layers = cfg.numLayers();
        boolean steerPrompt = plan.positions().prompt();
        Gate g = plan.gate();
        int first = plan.firstSteeredLayer();
        if (g == null || gateOpen != null) {
            float s = steerPrompt && gateOpen != Boolean.FALSE ? 1f : 0f;
            forward(n, s, 0, layers, true);
        } else if (!steerPrompt || first < 0 || first > g.layer()) {
            // one pass: the gate is decided before the first steered layer runs
            forward(n, 0f, 0, g.layer() + 1, true);
            decideGate(n, g);
            forward(n, steerPrompt && gateOpen ? 1f : 0f, g.layer() + 1, layers, true);
        } else {
            // steered layers at or below the gate layer: run unsteered up to the gate, and if it
            // opens, redo only the layers from the first steered one with steering
            forward(n, 0f, 0, first, true);
            float[] snapshot = Arrays.copyOf(x, n * hidden);
            forward(n, 0f, first, g.layer() + 1, true);
            decideGate(n, g);
            if (gateOpen) {
                System.arraycopy(snapshot, 0, x, 0, n * hidden);
                forward(n, 1f, first, layers, true);
                recomputed = true;
            } else {
                forward(n, 0f, g.layer() + 1, layers, true);
            }
        }
        if (allLogits != null) {
            for (int i = 0; i < n; i++) {
                allLogits[i] = new float[vocab];
                logitsFor(i, allLogits[i]);
            }
            System.arraycopy(allLogits[n - 1], 0, logits, 0, vocab);
        } else {
            logitsFor(n - 1, logits);
        }
        pos += n;
    }

    private void decideGate(int n, Gate g) {
        gateScore = k.dot(x, (n - 1) * hidden, g.direction(), 0, hidden) + g.bias();
        gateOpen = gateScore > 0f;
    }

    private void checkToken(int id) {
        if (id < 0 || id >= vocab) {
            throw new BadInputException("token id " + id + " is outside the vocabulary (0.." + (vocab - 1) + ")");
        }
    }

    private void checkRoom(int n) {
        if (pos + n > contextLength) {
            throw new BadInputException((pos == 0 ? "prompt of " + n + " tokens" : n + " more tokens after " + pos)
                    + " does not fit the context length of " + contextLength
                    + (pos == 0 ? " (raise the context length or shorten the prompt)" : ""));
        }
    }

    private void embed(int token, int row) {
        w.embedding.readRow(token, x, row * hidden);
    }

    // ---------------------------------------------------------------- the blocks

    /** Runs blocks [from, to) over the first n rows of x; steer multiplies every steering vector (0 or 1). */
    private void forward(int n, float steer, int from, int to, boolean prompt) {
        batch = n;
        for (int l = from; l < to; l++) {
            LayerWeights lw = w.layers[l];
            layerIdx = l;
            // attention
            for (int i = 0; i < n; i++) {
                k.rmsnorm(xb, i * hidden, x, i * hidden, lw.attnNorm(), hidden, eps);
            }
            matmul.run3(n, lw.wq(), q, qDim, lw.wk(), kb, kvDim, lw.wv(), vb, kvDim);
            addBias(q, lw.bq(), n, qDim);
            addBias(kb, lw.bk(), n, kvDim);
            addBias(vb, lw.bv(), n, kvDim);
            for (int i = 0; i < n; i++) {
                float[] cos = rope.cos(rowPos[i]);
                float[] sin = rope.sin(rowPos[i]);
                if (w.ropeAdjacentPairs) {
                    for (int h = 0; h < nHeads; h++) {
                        Rope.rotatePairs(q, i * qDim + h * headDim, headDim, cos, sin);
                    }
                    for (int h = 0; h < nKv; h++) {
                        Rope.rotatePairs(kb, i * kvDim + h * headDim, headDim, cos, sin);
                    }
                } else {
                    for (int h = 0; h < nHeads; h++) {
                        k.rope(q, i * qDim + h * headDim, headDim, cos, sin);
                    }
                    for (int h = 0; h < nKv; h++) {
                        k.rope(kb, i * kvDim + h * headDim, headDim, cos, sin);
                    }
                }
                System.arraycopy(kb, i * kvDim, keyCache[l], (pos + i) * kvDim, kvDim);
                System.arraycopy(vb, i * kvDim, valueCache[l], (pos + i) * kvDim, kvDim);
            }
            pool.parallelFor(nHeads, attentionTask);
            matmul.run1(n, lw.wo(), proj, hidden);
            addBias(proj, lw.bo(), n, hidden);
            float[] av = steer != 0f ? plan.attnVector(l) : null;
            float as = plan.attnScale(l) * steer;
            for (int i = 0; i < n; i++) {
                k.residualAdd(x, i * hidden, proj, i * hidden, av, as, null, hidden);
            }
            // MLP
            for (int i = 0; i < n; i++) {
                k.rmsnorm(xb, i * hidden, x, i * hidden, lw.mlpNorm(), hidden, eps);
            }
            matmul.run2(n, lw.wGate(), gate, inter, lw.wUp(), up, inter);
            addBias(gate, lw.bGate(), n, inter);
            addBias(up, lw.bUp(), n, inter);
            for (int i = 0; i < n; i++) {
                k.swiglu(gate, i * inter, up, i * inter, inter);
            }
            matmul.run1x(n, lw.wDown(), gate, proj, hidden);
            addBias(proj, lw.bDown(), n, hidden);
            float[] ov = steer != 0f ? plan.outVector(l) : null;
            float os = plan.outScale(l) * steer;
            float[] probe = plan.probe(l);
            for (int i = 0; i < n; i++) {
                boolean last = i == n - 1;
                float score = k.residualAdd(x, i * hidden, proj, i * hidden, ov, os, last ? probe : null, hidden);
                if (last && probe != null) {
                    probeScores[l] = score;
                }
            }
            if (captureRows != null) {
                for (int j = 0; j < captureRows.length; j++) {
                    System.arraycopy(x, captureRows[j] * hidden, packedCaptured[j][l], 0, hidden);
                }
            } else if (captured != null && prompt) {
                System.arraycopy(x, (n - 1) * hidden, captured[l], 0, hidden);
            }
        }
        if (to == cfg.numLayers()) {
            System.arraycopy(x, (n - 1) * hidden, lastHidden, 0, hidden);
        }
    }

    private static void addBias(float[] out, float[] bias, int n, int dim) {
        if (bias == null) {
            return;
        }
        for (int i = 0; i < n; i++) {
            int off = i * dim;
            for (int j = 0; j < dim; j++) {
                out[off + j] += bias[j];
            }
        }
    }

    /** Causal attention for heads [h0, h1) over all rows of the current batch. */
    private void attentionHeads(int h0, int h1) {
        float[] kc = keyCache[layerIdx];
        float[] vc = valueCache[layerIdx];
        int group = nHeads / nKv;
        float invSqrt = (float) (1.0 / Math.sqrt(headDim));
        for (int h = h0; h < h1; h++) {
            float[] scores = att[h];
            int kvOff = (h / group) * headDim;
            for (int i = 0; i < batch; i++) {
                int qOff = i * qDim + h * headDim;
                int last = pos + i;
                int first = rowStart[i];
                for (int t = first; t <= last; t++) {
                    scores[t] = k.dot(q, qOff, kc, t * kvDim + kvOff, headDim) * invSqrt;
                }
                k.softmax(scores, first, last - first + 1);
                int oOff = i * qDim + h * headDim;
                Arrays.fill(attnOut, oOff, oOff + headDim, 0f);
                for (int t = first; t <= last; t++) {
                    k.axpy(scores[t], vc, t * kvDim + kvOff, attnOut, oOff, headDim);
                }
            }
        }
    }

    private void logitsFor(int row, float[] out) {
        k.rmsnorm(xb, 0, x, row * hidden, w.finalNorm, hidden, eps);
        matmul.runVector(w.lmHead, xb, out);
    }

    private void ensureCapacity(int n) {
        if (n <= capacity) {
            return;
        }
        capacity = n;
        x = new float[n * hidden];
        xb = new float[n * Math.max(hidden, qDim)];
        q = new float[n * qDim];
        kb = new float[n * kvDim];
        vb = new float[n * kvDim];
        attnOut = new float[n * qDim];
        proj = new float[n * hidden];
        gate = new float[n * inter];
        up = new float[n * inter];
        rowPos = new int[n];
        rowStart = new int[n];
    }

    private void plainRows(int n) {
        for (int i = 0; i < n; i++) {
            rowPos[i] = pos + i;
            rowStart[i] = 0;
        }
    }

    /**
     * Matrix products split by output rows over the worker pool; up to three matrices that share
     * an input go in one parallel call. Fields instead of lambdas keep decode allocation-free.
     */
    private final class MatmulTask implements WorkerPool.RangeTask {
        private final WeightMatrix[] m = new WeightMatrix[3];
        private final float[][] out = new float[3][];
        private final int[] stride = new int[3];
        private int count;
        private int n;
        private float[] in;

        void run1(int n, WeightMatrix a, float[] outA, int sa) {
            run1x(n, a, attnOut, outA, sa);
        }

        void run1x(int n, WeightMatrix a, float[] input, float[] outA, int sa) {
            set(n, input, 1);
            m[0] = a; out[0] = outA; stride[0] = sa;
            go();
        }

        void run2(int n, WeightMatrix a, float[] outA, int sa, WeightMatrix b, float[] outB, int sb) {
            set(n, xb, 2);
            m[0] = a; out[0] = outA; stride[0] = sa;
            m[1] = b; out[1] = outB; stride[1] = sb;
            go();
        }

        void run3(int n, WeightMatrix a, float[] outA, int sa, WeightMatrix b, float[] outB, int sb,
                  WeightMatrix c, float[] outC, int sc) {
            set(n, xb, 3);
            m[0] = a; out[0] = outA; stride[0] = sa;
            m[1] = b; out[1] = outB; stride[1] = sb;
            m[2] = c; out[2] = outC; stride[2] = sc;
            go();
        }

        void runVector(WeightMatrix a, float[] input, float[] outA) {
            set(1, input, 1);
            m[0] = a; out[0] = outA; stride[0] = a.rows();
            go();
        }

        private void set(int n, float[] input, int count) {
            this.n = n;
            this.in = input;
            this.count = count;
        }

        private void go() {
            int total = 0;
            for (int i = 0; i < count; i++) {
                total += m[i].rows();
            }
            pool.parallelFor(total, 16, this);
        }

        @Override
        public void run(int start, int end) {
            int base = 0;
            for (int i = 0; i < count; i++) {
                int rows = m[i].rows();
                int s = Math.max(start, base) - base;
                int e = Math.min(end, base + rows) - base;
                if (s < e) {
                    if (n == 1) {
                        m[i].matvec(in, 0, out[i], 0, s, e);
                    } else {
                        m[i].matmul(in, n, out[i], stride[i], s, e);
                    }
                }
                base += rows;
            }
        }
    }
}

package dev.rudder.runtime.backend.cpu;

import dev.rudder.runtime.backend.Activations;
import dev.rudder.runtime.io.ModelConfig;

/**
 * Activation buffers of a batch on the heap, row {@code i} of a {@code [rows, n]} buffer at
 * offset {@code i * n}. The parallel tasks live here too (fields instead of lambdas keep decode
 * allocation-free, and two batches on two threads never share them).
 */
final class CpuActivations implements Activations {
    final int rows;
    final int contextLength;
    final float[] x;          // [rows, hidden] the residual stream
    final float[] xb;         // [rows, max(hidden, qDim)] normed input of a projection
    final float[] q;          // [rows, qDim]
    final float[] k;          // [rows, kvDim]
    final float[] v;          // [rows, kvDim]
    final float[] attnOut;    // [rows, qDim] attention output, all heads
    final float[] proj;       // [rows, hidden] output of o_proj / down_proj
    final float[] mlpGate;    // [rows, inter] gate_proj output, then silu(mlpGate) * mlpUp (not the InferAligner Gate)
    final float[] mlpUp;      // [rows, inter] up_proj output
    float[] saved;            // [rows, hidden] copy of x for a gated recompute, made on first use
    private float[] logits;   // [rows, vocab] logits of a multi-row call, made on first use

    final MatmulTask matmul;
    final AttentionTask attention;
    final CpuBackend.RowsTask rowSteps;   // the per-row steps of a prompt, split over the pool

    CpuActivations(CpuBackend backend, ModelConfig cfg, int rows, int contextLength) {
        this.rows = rows;
        this.contextLength = contextLength;
        int hidden = cfg.hiddenSize();
        int qDim = cfg.numHeads() * cfg.headDim();
        int kvDim = cfg.numKvHeads() * cfg.headDim();
        int inter = cfg.intermediateSize();
        x = new float[rows * hidden];
        xb = new float[rows * Math.max(hidden, qDim)];
        q = new float[rows * qDim];
        k = new float[rows * kvDim];
        v = new float[rows * kvDim];
        attnOut = new float[rows * qDim];
        proj = new float[rows * hidden];
        mlpGate = new float[rows * inter];
        mlpUp = new float[rows * inter];
        matmul = new MatmulTask(backend.pool());
        attention = new AttentionTask(backend.kernels(), cfg, this);
        rowSteps = new CpuBackend.RowsTask(backend, this);
    }

    float[] logits(int vocab) {
        if (logits == null) {
            logits = new float[rows * vocab];
        }
        return logits;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int contextLength() {
        return contextLength;
    }
}

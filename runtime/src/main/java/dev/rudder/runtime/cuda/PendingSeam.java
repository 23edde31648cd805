package dev.rudder.runtime.cuda;

/**
 * The residual seam's launches of one step, held until the next step so that the RMSNorm that
 * normally follows (the next block's or the MLP's input) runs in the same kernel: one pass over
 * the hidden state instead of two, and one launch instead of two. Any other step runs them
 * alone first. Everything a launch needs is captured when the seam is called, so later changes
 * to the batch cannot leak in. One entry per run of rows with the same sequence and steering.
 */
final class PendingSeam {
    private final int[] rowStart;   // [groups] first row of the run
    private final int[] rows;       // [groups] rows in the run
    private final long[] vector;    // [groups] steering vector address, or 0
    private final float[] scale;    // [groups]
    private final long[] gate;      // [groups] gate flag address, or 0 (steer unconditionally)
    private final long[] probe;     // [groups] probe direction address, or 0
    private final long[] probeOut;  // [groups] where the probe reading goes
    private final int[] probeRow;   // [groups] row (within the run) the probe reads, or -1
    private int groups;

    PendingSeam(int capacity) {
        rowStart = new int[capacity];
        rows = new int[capacity];
        vector = new long[capacity];
        scale = new float[capacity];
        gate = new long[capacity];
        probe = new long[capacity];
        probeOut = new long[capacity];
        probeRow = new int[capacity];
    }

    boolean isEmpty() {
        return groups == 0;
    }

    /** Rows the held launches cover (all of them start at row 0 of the batch, run after run). */
    int rows() {
        int n = 0;
        for (int g = 0; g < groups; g++) {
            n += rows[g];
        }
        return n;
    }

    void add(int start, int count, long vector, float scale, long gate, long probe, long probeOut, int probeRow) {
        int g = groups++;
        this.rowStart[g] = start;
        this.rows[g] = count;
        this.vector[g] = vector;
        this.scale[g] = scale;
        this.gate[g] = gate;
        this.probe[g] = probe;
        this.probeOut[g] = probeOut;
        this.probeRow[g] = probeRow;
    }

    /**
     * Launches the held seam on {@code c}: alone ({@code normWeight == 0}), or fused with the
     * RMSNorm of weight {@code normWeight} writing {@code c.xb}. Then nothing is held.
     */
    void launch(CudaActivations c, int hidden, int threads, long normWeight, float eps) {
        for (int g = 0; g < groups; g++) {
            long rowOffset = 4L * rowStart[g] * hidden;
            c.args.clear().ptr(c.x + rowOffset).ptr(c.proj + rowOffset).ptr(vector[g]).f32(scale[g]).ptr(gate[g])
                    .ptr(probeRow[g] >= 0 ? probe[g] : 0).ptr(probeOut[g]).i32(probeRow[g]).i32(hidden);
            Kernel k = Kernel.RESIDUAL_SEAM;
            if (normWeight != 0) {
                c.args.ptr(normWeight).ptr(c.xb + rowOffset).f32(eps);
                k = Kernel.RESIDUAL_SEAM_RMSNORM;
            }
            c.queue.launch(k, LaunchGeometry.blockPerRow(rows[g], threads), c.args);
        }
        groups = 0;
    }
}

package dev.rudder.runtime.backend.cpu;

import dev.rudder.runtime.backend.Batch;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.kernel.Kernels;
import dev.rudder.runtime.parallel.WorkerPool;

import java.util.Arrays;

/**
 * Attention of one layer for every row of a batch, split over the pool by (row, key/value head): the query heads
 * that share a key/value head run together ({@link Kernels#attentionScores(float[], int, int, float[], int, int,
 * int, int, int, float, float[][])}), reading that head's cache once for all of them. Where those units would split
 * unevenly over the threads (few rows, an odd number of key/value heads) the units are (row, query head) instead.
 * Each thread keeps its own score rows.
 *
 * <p>A unit reads its cache {@link #tilePositions} positions at a time: a 16-bit cache is widened into a per-thread
 * float tile and the float kernels run on the tile, a float32 cache is read in place (a decode row's range in one
 * call). A score is the same chain over d wherever its position falls, and the values kernels continue their sums
 * from tile to tile. Prompt rows run in blocks of up to {@link #BLOCK_ROWS} rows of one sequence per unit, a tile of
 * positions at a time for all of them: a 16-bit tile is widened once for the block rather than once per row, and a
 * float32 cache's tile is read from L1 by the block's rows (the 135M shape's 2000-token prefill +2-3%). Every score
 * and output is the same chain as row by row, so the bits do not change.
 */
final class AttentionTask implements WorkerPool.RangeTask {
    /** Prompt rows per unit. */
    static final int BLOCK_ROWS = 16;
    /** Floats of a thread's tile of widened cache entries: the size of an L1 data cache. */
    private static final int TILE_FLOATS = 8192;

    private final Kernels kern;
    private final CpuActivations a;
    private final int nKv;
    private final int headDim;
    private final int group;
    private final int qDim;
    private final int kvDim;
    private final float invSqrt;
    private final ThreadLocal<float[][][]> rowScores;     // per thread [1][group][contextLength]: a decode row's weights per head
    private final ThreadLocal<float[][][]> blockScores;   // per thread [BLOCK_ROWS][group][contextLength], on first use
    private final int tilePositions;               // positions per tile of a 16-bit cache: ~32 KB of floats, a multiple of 32
    private final ThreadLocal<float[]> tiles;      // per thread [headDim * tilePositions]: 16-bit keys or values widened
    private final int[] blockStart;                // [rows + 1] first row of each block of prompt rows
    private Batch batch;
    private int layer;
    private boolean storeOwn;   // each unit stores its row's keys and values of its group first (decode rows: distinct sequences)
    private boolean perHead;    // units are (row, query head), one head at a time, instead of (row, key/value head)
    private int blocks;         // > 0: units are (block of prompt rows of one sequence, key/value head)

    AttentionTask(Kernels kern, ModelConfig cfg, CpuActivations a) {
        this.kern = kern;
        this.a = a;
        nKv = cfg.numKvHeads();
        headDim = cfg.headDim();
        group = cfg.numHeads() / nKv;
        qDim = cfg.numHeads() * headDim;
        kvDim = nKv * headDim;
        invSqrt = (float) (1.0 / Math.sqrt(headDim));
        int context = a.contextLength;
        rowScores = ThreadLocal.withInitial(() -> new float[1][group][context]);
        blockScores = ThreadLocal.withInitial(() -> new float[BLOCK_ROWS][group][context]);
        tilePositions = Math.max(32, TILE_FLOATS / headDim / 32 * 32);
        int tileFloats = headDim * tilePositions;
        tiles = ThreadLocal.withInitial(() -> new float[tileFloats]);
        blockStart = new int[a.rows + 1];
    }

    /** Attention of {@code layer} for the rows of {@code b} on {@code pool}. */
    void run(WorkerPool pool, Batch b, int layer) {
        batch = b;
        this.layer = layer;
        // key/value heads per unit unless that splits unevenly over few units (one sequence of SmolLM2-135M: 3 kv
        // heads on 2 threads ran 2 to 1, ~3-8% slower decode at 1500-2000 positions than query heads 5 to 4); not
        // over a 16-bit cache, whose tiles each query head would widen again (the same decode: 48 against 59 tok/s)
        int groups = b.size() * nKv;
        perHead = groups % pool.threads() != 0 && groups < 4 * pool.threads() && !anySixteenBit(b);
        // decode rows are distinct sequences: each unit stores its own row's keys and values, on the pool; a
        // prompt's rows read each other's, and query heads of one group share a store, so those are all stored first
        storeOwn = b.kind() == Batch.Kind.DECODE && !perHead;
        if (!storeOwn) {
            for (int i = 0; i < b.size(); i++) {
                store(i, 0, kvDim);
            }
        }
        blocks = b.kind() == Batch.Kind.PROMPT ? planBlocks(b) : 0;
        pool.parallelFor(blocks > 0 ? blocks * nKv : b.size() * (perHead ? nKv * group : nKv), this);
        batch = null;
    }

    private static boolean anySixteenBit(Batch b) {
        for (int i = 0; i < b.size(); i++) {
            CpuSequence s = (CpuSequence) b.sequence(i);
            if (s.keyCache == null || s.valueCache == null) {
                return true;
            }
        }
        return false;
    }

    /** Blocks of up to BLOCK_ROWS consecutive rows of one sequence; returns how many. */
    private int planBlocks(Batch b) {
        int n = 0;
        for (int i = 0; i < b.size(); i++) {
            if (i == 0 || b.sequence(i) != b.sequence(i - 1) || i - blockStart[n - 1] == BLOCK_ROWS) {
                blockStart[n++] = i;
            }
        }
        blockStart[n] = b.size();
        return n;
    }

    /** Row i's keys and values of dimensions [j0, j1) into its sequence's cache at its slot (keys transposed). */
    private void store(int i, int j0, int j1) {
        ((CpuSequence) batch.sequence(i)).store(layer, batch.slot(i), a.k, a.v, i * kvDim, j0, j1);
    }

    @Override
    public void run(int u0, int u1) {
        if (blocks > 0) {
            float[][][] sc = blockScores.get();
            for (int u = u0; u < u1; u++) {
                attend(blockStart[u / nKv], blockStart[u / nKv + 1], u % nKv * group, group, sc);
            }
            return;
        }
        float[][][] sc = rowScores.get();
        int heads = perHead ? 1 : group;               // query heads per unit
        int perRow = nKv * group / heads;              // units per row
        for (int u = u0; u < u1; u++) {
            int i = u / perRow;
            int h0 = u % perRow * heads;               // first query head of the unit
            if (storeOwn) {
                int kvOff = h0 / group * headDim;
                store(i, kvOff, kvOff + headDim);
            }
            attend(i, i + 1, h0, heads, sc);
        }
    }

    /**
     * Causal attention of rows [r0, r1) of one sequence (a decode row, or a block of prompt rows), query heads
     * [h0, h0 + heads) of one key/value head, each row over its cache [attendFrom, slot]: each tile of keys (widened
     * once, if 16-bit) for all the rows' scores, then each tile of values for all their outputs. {@code sc}: per
     * thread [rows][heads][contextLength].
     */
    private void attend(int r0, int r1, int h0, int heads, float[][][] sc) {
        float[] tile = tiles.get();
        CpuSequence s = (CpuSequence) batch.sequence(r0);
        int kvOff = h0 / group * headDim;
        int lo = Integer.MAX_VALUE;
        int hi = 0;
        for (int i = r0; i < r1; i++) {
            lo = Math.min(lo, batch.attendFrom(i));
            hi = Math.max(hi, batch.slot(i));
        }
        // a float32 cache is read in place: in tiles only where a block's rows share them (a decode row reads its
        // whole range in one call, as streaming it in tiles measured ~4% slower at 2000 positions)
        boolean oneRow = r1 - r0 == 1;
        int keyStep = oneRow && s.keyCache != null ? hi - lo + 1 : tilePositions;
        int valueStep = oneRow && s.valueCache != null ? hi - lo + 1 : tilePositions;
        for (int t = lo; t <= hi; t += keyStep) {
            int end = Math.min(hi + 1, t + keyStep);
            float[] keys = tile;                           // [headDim, tilePositions], or the float32 cache itself
            int kOff = -t;
            int kStride = tilePositions;
            if (s.keyCache != null) {
                keys = s.keyCache[layer];
                kOff = kvOff * s.keyStride;
                kStride = s.keyStride;
            } else {
                s.widenKeys(kern, layer, kvOff, headDim, t, end, tile, tilePositions);
            }
            for (int i = r0; i < r1; i++) {
                int from = Math.max(t, batch.attendFrom(i));
                int to = Math.min(end, batch.slot(i) + 1);
                if (from < to) {
                    kern.attentionScores(a.q, i * qDim + h0 * headDim, heads, keys, kOff, kStride, headDim, from, to,
                            invSqrt, sc[i - r0]);
                }
            }
        }
        for (int i = r0; i < r1; i++) {
            int first = batch.attendFrom(i);
            for (int j = 0; j < heads; j++) {
                kern.softmax(sc[i - r0][j], first, batch.slot(i) - first + 1);
            }
            int qOff = i * qDim + h0 * headDim;
            Arrays.fill(a.attnOut, qOff, qOff + heads * headDim, 0f);   // the values kernels add to it
        }
        for (int t = lo; t <= hi; t += valueStep) {
            int end = Math.min(hi + 1, t + valueStep);
            float[] values = tile;                         // [tilePositions, headDim], or the float32 cache itself
            int vOff = -t * headDim;
            int vStride = headDim;
            if (s.valueCache != null) {
                values = s.valueCache[layer];
                vOff = kvOff;
                vStride = kvDim;
            } else {
                s.widenValues(kern, layer, kvOff, headDim, t, end, tile);
            }
            for (int i = r0; i < r1; i++) {
                int from = Math.max(t, batch.attendFrom(i));
                int to = Math.min(end, batch.slot(i) + 1);
                if (from < to) {
                    kern.attentionValues(sc[i - r0], heads, from, to, values, vOff, vStride, a.attnOut,
                            i * qDim + h0 * headDim, headDim);
                }
            }
        }
    }
}

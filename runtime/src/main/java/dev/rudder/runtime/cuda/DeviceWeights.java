package dev.rudder.runtime.cuda;

import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.model.LayerWeights;
import dev.rudder.runtime.model.ModelWeights;
import dev.rudder.runtime.tensor.WeightMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/**
 * A model's weights in device memory: per block one allocation laid out by {@link WeightLayout},
 * plus the embedding table, the final norm and the LM head (the embedding itself when tied).
 * Uploaded once, through a native staging buffer, rows converted on all processors.
 */
final class DeviceWeights implements AutoCloseable {
    private static final long STAGING_BYTES = 64L << 20;

    /** A matrix on the device: {@code [rows, cols]} of {@code type} at {@code address}. */
    record Matrix(long address, DeviceDType type, int rows, int cols) {
    }

    /** One block: addresses of its parts (0 for an absent bias). */
    record Block(long attnNorm, long mlpNorm, Matrix qkv, long qkvBias, Matrix o, long oBias,
                 Matrix gateUp, long gateUpBias, Matrix down, long downBias) {
    }

    final Matrix embedding;
    final Matrix lmHead;
    final long finalNorm;
    final Block[] blocks;
    final long bytes;
    private final Gpu gpu;
    private final List<Long> allocations = new ArrayList<>();

    DeviceWeights(Gpu gpu, ModelConfig cfg, ModelWeights w) {
        this.gpu = gpu;
        int hidden = cfg.hiddenSize();
        int qDim = cfg.numHeads() * cfg.headDim();
        int kvDim = cfg.numKvHeads() * cfg.headDim();
        int inter = cfg.intermediateSize();
        long total = 0;
        try (Gpu.Queue q = gpu.newQueue(); Arena arena = Arena.ofShared()) {   // shared: rows are converted on several threads
            Uploader up = new Uploader(q, arena.allocate(STAGING_BYTES, 256));
            embedding = up.matrix(w.embedding(), DeviceDType.of(w.embedding()), "embedding");
            total += (long) embedding.rows() * embedding.cols() * embedding.type().bytes;
            if (w.lmHead() == w.embedding()) {
                lmHead = embedding;
            } else {
                lmHead = up.matrix(w.lmHead(), DeviceDType.of(w.lmHead()), "lm_head");
                total += (long) lmHead.rows() * lmHead.cols() * lmHead.type().bytes;
            }
            finalNorm = up.vector(w.finalNorm(), "final norm");
            blocks = new Block[cfg.numLayers()];
            for (int l = 0; l < blocks.length; l++) {
                LayerWeights lw = w.layer(l);
                DeviceDType t = DeviceDType.of(lw.wq(), lw.wk(), lw.wv(), lw.wo(), lw.wGate(), lw.wUp(), lw.wDown());
                boolean qkvBias = lw.bq() != null || lw.bk() != null || lw.bv() != null;
                boolean mlpBias = lw.bGate() != null || lw.bUp() != null;
                WeightLayout layout = WeightLayout.block(hidden, qDim, kvDim, inter, t.bytes, qkvBias, lw.bo() != null,
                        mlpBias, lw.bDown() != null);
                long base = alloc(layout.bytes(), "block " + l + " weights");
                total += layout.bytes();
                up.floats(base, layout.part("attn_norm"), lw.attnNorm());
                up.floats(base, layout.part("mlp_norm"), lw.mlpNorm());
                long qkv = up.stacked(base, layout.part("qkv"), t, lw.wq(), lw.wk(), lw.wv());
                long o = up.stacked(base, layout.part("o"), t, lw.wo());
                long gu = up.stacked(base, layout.part("gate_up"), t, lw.wGate(), lw.wUp());
                long down = up.stacked(base, layout.part("down"), t, lw.wDown());
                long bqkv = qkvBias ? up.floats(base, layout.part("qkv_bias"), concat(qDim + 2 * kvDim,
                        lw.bq(), qDim, lw.bk(), kvDim, lw.bv(), kvDim)) : 0;
                long bo = lw.bo() != null ? up.floats(base, layout.part("o_bias"), lw.bo()) : 0;
                long bgu = mlpBias ? up.floats(base, layout.part("gate_up_bias"), concat(2 * inter,
                        lw.bGate(), inter, lw.bUp(), inter)) : 0;
                long bd = lw.bDown() != null ? up.floats(base, layout.part("down_bias"), lw.bDown()) : 0;
                blocks[l] = new Block(base + layout.part("attn_norm").offset(), base + layout.part("mlp_norm").offset(),
                        new Matrix(qkv, t, qDim + 2 * kvDim, hidden), bqkv, new Matrix(o, t, hidden, qDim), bo,
                        new Matrix(gu, t, 2 * inter, hidden), bgu, new Matrix(down, t, hidden, inter), bd);
            }
            q.synchronize();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        bytes = total;
    }

    /** {@code [total]}: the parts one after another, zeros for a missing (null) part. */
    static float[] concat(int total, Object... partsAndLengths) {
        float[] out = new float[total];
        int off = 0;
        for (int i = 0; i < partsAndLengths.length; i += 2) {
            float[] p = (float[]) partsAndLengths[i];
            int n = (Integer) partsAndLengths[i + 1];
            if (p != null) {
                System.arraycopy(p, 0, out, off, n);
            }
            off += n;
        }
        return out;
    }

    private long alloc(long bytes, String what) {
        long a = gpu.allocate(bytes, what);
        allocations.add(a);
        return a;
    }

    @Override
    public void close() {
        for (long a : allocations) {
            gpu.free(a);
        }
        allocations.clear();
    }

    /** Copies host data to the device through one staging buffer. */
    private final class Uploader {
        private final Gpu.Queue q;
        private final MemorySegment staging;   // [STAGING_BYTES]

        Uploader(Gpu.Queue q, MemorySegment staging) {
            this.q = q;
            this.staging = staging;
        }

        Matrix matrix(WeightMatrix m, DeviceDType t, String what) {
            long a = alloc((long) m.rows() * m.cols() * t.bytes, what);
            rows(m, t, a);
            return new Matrix(a, t, m.rows(), m.cols());
        }

        /** The matrices one after another (stacked rows) at {@code base + part.offset}. */
        long stacked(long base, WeightLayout.Part part, DeviceDType t, WeightMatrix... ms) {
            long at = base + part.offset();
            for (WeightMatrix m : ms) {
                rows(m, t, at);
                at += (long) m.rows() * m.cols() * t.bytes;
            }
            return base + part.offset();
        }

        long vector(float[] v, String what) {
            long a = alloc(4L * v.length, what);
            upload(v, a);
            return a;
        }

        long floats(long base, WeightLayout.Part part, float[] v) {
            upload(v, base + part.offset());
            return base + part.offset();
        }

        private void upload(float[] v, long dst) {
            MemorySegment s = staging.asSlice(0, 4L * v.length);
            MemorySegment.copy(v, 0, s, JAVA_FLOAT, 0, v.length);
            q.upload(s, dst);
        }

        /** All rows of {@code m} in type {@code t}, in staging-sized chunks converted in parallel. */
        private void rows(WeightMatrix m, DeviceDType t, long dst) {
            long rowBytes = (long) m.cols() * t.bytes;
            int perChunk = (int) Math.max(1, Math.min(m.rows(), STAGING_BYTES / rowBytes));
            for (int r0 = 0; r0 < m.rows(); r0 += perChunk) {
                int r1 = Math.min(m.rows(), r0 + perChunk);
                int first = r0;
                int slices = Math.max(1, Math.min(r1 - r0, 4 * Runtime.getRuntime().availableProcessors()));
                IntStream.range(0, slices).parallel().forEach(s -> {
                    int a = first + (int) ((long) (r1 - first) * s / slices);
                    int b = first + (int) ((long) (r1 - first) * (s + 1) / slices);
                    t.writeRows(m, a, b, staging.asSlice((a - first) * rowBytes, (b - a) * rowBytes), new float[m.cols()]);
                });
                q.upload(staging.asSlice(0, (r1 - r0) * rowBytes), dst + (long) r0 * rowBytes);
            }
        }
    }
}

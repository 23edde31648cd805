package dev.rudder.runtime.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * Where each part of a block's weights sits in its one device allocation. Matrices that read
 * the same input are stacked so one kernel computes them together: q, k and v rows as one
 * {@code [qDim + 2 kvDim, hidden]} matrix (biases likewise, zeros where a part has none), gate
 * and up rows as one {@code [2 inter, hidden]} matrix. Every part starts on a 256-byte boundary
 * (16-byte vector loads and the driver's own alignment).
 *
 * @param parts in allocation order
 * @param bytes total size of the allocation
 */
public record WeightLayout(List<Part> parts, long bytes) {
    public static final int ALIGN = 256;

    /** One part: {@code rows x cols} elements of {@code elementBytes} bytes at {@code offset}. */
    public record Part(String name, long offset, int rows, int cols, int elementBytes) {
        public long bytes() {
            return (long) rows * cols * elementBytes;
        }
    }

    public Part part(String name) {
        for (Part p : parts) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }

    /** Builds a layout part by part. */
    public static final class Builder {
        private final List<Part> parts = new ArrayList<>();
        private long next;

        public Builder add(String name, int rows, int cols, int elementBytes) {
            parts.add(new Part(name, next, rows, cols, elementBytes));
            next = align(next + (long) rows * cols * elementBytes);
            return this;
        }

        public WeightLayout build() {
            return new WeightLayout(List.copyOf(parts), Math.max(next, ALIGN));
        }
    }

    static long align(long n) {
        return (n + ALIGN - 1) / ALIGN * ALIGN;
    }

    /**
     * The layout of one decoder block: norms (F32), stacked qkv, o, stacked gate|up and down
     * matrices in their device dtype ({@code elementBytes} each), biases (F32) where present.
     */
    public static WeightLayout block(int hidden, int qDim, int kvDim, int inter, int matrixBytes,
                                     boolean qkvBias, boolean oBias, boolean mlpBias, boolean downBias) {
        Builder b = new Builder()
                .add("attn_norm", 1, hidden, 4)
                .add("mlp_norm", 1, hidden, 4)
                .add("qkv", qDim + 2 * kvDim, hidden, matrixBytes)
                .add("o", hidden, qDim, matrixBytes)
                .add("gate_up", 2 * inter, hidden, matrixBytes)
                .add("down", hidden, inter, matrixBytes);
        if (qkvBias) {
            b.add("qkv_bias", 1, qDim + 2 * kvDim, 4);
        }
        if (oBias) {
            b.add("o_bias", 1, hidden, 4);
        }
        if (mlpBias) {
            b.add("gate_up_bias", 1, 2 * inter, 4);
        }
        if (downBias) {
            b.add("down_bias", 1, hidden, 4);
        }
        return b.build();
    }
}

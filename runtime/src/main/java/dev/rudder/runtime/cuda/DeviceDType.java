package dev.rudder.runtime.cuda;

import dev.rudder.runtime.tensor.WeightMatrix;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

/**
 * How a weight matrix is stored on the GPU and which kernels read it. BF16 and F16 stay as they
 * are (the kernels widen them exactly); everything else (F32, and types without a CUDA kernel
 * yet, such as quantized GGUF blocks) is widened to F32 on upload, which is exact.
 */
public enum DeviceDType {
    F32(4, Kernel.EMBED_F32, Kernel.MATVEC_F32, Kernel.MATVEC_F32_UNALIGNED, Kernel.MATVEC_SWIGLU_F32,
            Kernel.MATVEC_SWIGLU_F32_UNALIGNED, null),
    BF16(2, Kernel.EMBED_BF16, Kernel.MATVEC_BF16, Kernel.MATVEC_BF16_UNALIGNED, Kernel.MATVEC_SWIGLU_BF16,
            Kernel.MATVEC_SWIGLU_BF16_UNALIGNED, Kernel.MATMUL_TC_BF16),
    F16(2, Kernel.EMBED_F16, Kernel.MATVEC_F16, Kernel.MATVEC_F16_UNALIGNED, Kernel.MATVEC_SWIGLU_F16,
            Kernel.MATVEC_SWIGLU_F16_UNALIGNED, Kernel.MATMUL_TC_F16);

    final int bytes;
    final Kernel embed;
    private final Kernel matvec;             // rows of a multiple of 16 bytes (16-byte loads)
    private final Kernel matvecUnaligned;    // any row length
    private final Kernel matvecSwiglu;
    private final Kernel matvecSwigluUnaligned;
    /** tensor-core prefill product, or null (F32: prefill uses the matrix-vector kernel per row) */
    final Kernel matmul;

    DeviceDType(int bytes, Kernel embed, Kernel matvec, Kernel matvecUnaligned, Kernel matvecSwiglu,
                Kernel matvecSwigluUnaligned, Kernel matmul) {
        this.bytes = bytes;
        this.embed = embed;
        this.matvec = matvec;
        this.matvecUnaligned = matvecUnaligned;
        this.matvecSwiglu = matvecSwiglu;
        this.matvecSwigluUnaligned = matvecSwigluUnaligned;
        this.matmul = matmul;
    }

    /** True when rows of {@code cols} values are whole 16-byte loads: the aligned kernels apply. */
    public boolean aligned(int cols) {
        return (long) cols * bytes % 16 == 0;
    }

    /** The matrix-vector kernel for rows of {@code cols} values. */
    public Kernel matvec(int cols) {
        return aligned(cols) ? matvec : matvecUnaligned;
    }

    /** The fused gate|up + SwiGLU kernel for rows of {@code cols} values. */
    public Kernel matvecSwiglu(int cols) {
        return aligned(cols) ? matvecSwiglu : matvecSwigluUnaligned;
    }

    /** The device type of matrices that are stacked into one (F32 unless all share BF16 or F16). */
    public static DeviceDType of(WeightMatrix... parts) {
        DeviceDType t = null;
        for (WeightMatrix m : parts) {
            DeviceDType d = switch (m.dtype()) {
                case BF16 -> BF16;
                case F16 -> F16;
                default -> F32;
            };
            if (t != null && t != d) {
                return F32;
            }
            t = d;
        }
        return t;
    }

    /**
     * Writes rows {@code [r0, r1)} of {@code m} into {@code dst} (row {@code r0} at byte 0) in
     * this type: widened to float by {@link WeightMatrix#readRow}, then stored back, which is
     * exact because the values came from this type (or are stored as F32).
     */
    void writeRows(WeightMatrix m, int r0, int r1, MemorySegment dst, float[] rowBuf) {
        int cols = m.cols();
        long off = 0;
        for (int r = r0; r < r1; r++) {
            m.readRow(r, rowBuf, 0);
            switch (this) {
                case F32 -> {
                    for (int c = 0; c < cols; c++) {
                        dst.set(JAVA_FLOAT_UNALIGNED, off + 4L * c, rowBuf[c]);
                    }
                }
                case BF16 -> {
                    for (int c = 0; c < cols; c++) {
                        dst.set(JAVA_SHORT_UNALIGNED, off + 2L * c, (short) (Float.floatToRawIntBits(rowBuf[c]) >>> 16));
                    }
                }
                case F16 -> {
                    for (int c = 0; c < cols; c++) {
                        dst.set(JAVA_SHORT_UNALIGNED, off + 2L * c, Float.floatToFloat16(rowBuf[c]));
                    }
                }
            }
            off += (long) cols * bytes;
        }
    }
}

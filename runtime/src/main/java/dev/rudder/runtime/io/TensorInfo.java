package dev.rudder.runtime.io;

import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a safetensors file: name, element type, shape and its bytes.
 *
 * <p>{@code data} is a read-only slice of the memory-mapped file (zero copy), exactly
 * {@code elementCount() * dtype.byteSize()} bytes, little-endian. It lives as long as the
 * {@link SafeTensorsFile} / {@link TensorStore} (its arena) that produced it. The slice may be
 * unaligned when a writer did not pad the header to 8 bytes: read it with the
 * {@code *_UNALIGNED} value layouts (see {@link SafeTensorsFile#F32_LE} and friends).
 */
public record TensorInfo(String name, DType dtype, long[] shape, MemorySegment data, Path file) {

    /** Number of elements: the product of the shape (1 for a scalar of shape []). */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}. */
    public long dim(int i) {
        return shape[i];
    }

    /** Number of bytes of the tensor data. */
    public long byteSize() {
        return data.byteSize();
    }

    /** The shape as {@code [a, b]}. */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    /** True when the shape equals {@code expected}. */
    public boolean hasShape(long... expected) {
        return Arrays.equals(shape, expected);
    }

    /** Widens this tensor (F32/F16/BF16) to a new float32 heap array. */
    public float[] toFloats() {
        return TensorStore.toFloats(this);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && data.equals(t.data) && java.util.Objects.equals(file, t.file);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + shapeString() + (file == null ? "" : " (" + file.getFileName() + ")");
    }
}

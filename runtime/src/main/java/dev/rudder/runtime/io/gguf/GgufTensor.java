package dev.rudder.runtime.io.gguf;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a GGUF file.
 *
 * @param dims     GGUF order: innermost ({@code ne[0]}, the row length) first
 * @param offset   byte offset inside the data section
 * @param byteSize bytes of the data, from type and shape
 * @param data     read-only slice of the mapped file ({@code byteSize} bytes), null only while parsing
 */
public record GgufTensor(String name, long[] dims, GgmlType type, long offset, long byteSize, MemorySegment data) {

    public long elementCount() {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    /** The shape in row-major order (outermost first, as safetensors and PyTorch write it): dims reversed. */
    public long[] shape() {
        long[] s = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            s[i] = dims[dims.length - 1 - i];
        }
        return s;
    }

    GgufTensor withData(MemorySegment d) {
        return new GgufTensor(name, dims, type, offset, byteSize, d);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensor t && name.equals(t.name) && Arrays.equals(dims, t.dims) && type == t.type
                && offset == t.offset;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(dims);
    }
}

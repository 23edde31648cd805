package dev.rudder.runtime.io.gguf;

import dev.rudder.runtime.tensor.QuantizedMatrices;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Widens tensor data of any weight type to float32: exact for F32/F16/BF16, ggml's dequantization for the rest. */
public final class Dequantize {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private Dequantize() {
    }

    /**
     * {@code n} elements of {@code data} from element {@code from} (for quantized types both whole blocks) into
     * {@code dst[dOff ..)}.
     */
    public static void toFloats(GgmlType type, MemorySegment data, long from, float[] dst, int dOff, int n) {
        switch (type) {
            case F32 -> MemorySegment.copy(data, F32, 4 * from, dst, dOff, n);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    dst[dOff + i] = Float.float16ToFloat(data.get(I16, 2 * (from + i)));
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    dst[dOff + i] = Float.intBitsToFloat((data.get(I16, 2 * (from + i)) & 0xFFFF) << 16);
                }
            }
            default -> {
                if (from % type.blockSize() != 0 || n % type.blockSize() != 0) {
                    throw new IllegalArgumentException("elements " + from + "+" + n + " are not whole " + type + " blocks");
                }
                QuantizedMatrices.dequantize(type.name(), data, from / type.blockSize() * type.blockBytes(), dst, dOff, n);
            }
        }
    }
}

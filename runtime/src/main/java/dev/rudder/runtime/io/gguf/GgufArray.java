package dev.rudder.runtime.io.gguf;

import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/**
 * A GGUF metadata array held as one Java array of the element's width: {@code byte[]}, {@code short[]},
 * {@code int[]} or {@code long[]} for the integer types (read back as {@link GgufValue} reads one: unsigned types
 * zero-extended), {@code float[]}, {@code double[]}, {@code boolean[]} or {@code String[]}; the heap it takes is
 * proportional to the bytes in the file, whatever count a file claims. A vocabulary is three arrays of 32k-256k entries;
 * one boxed {@link GgufValue} per entry (and a second list of plain values for the tokenizer) cost more
 * memory and start-up time than the tokenizer built from them. Elements are made on access; the list is
 * immutable.
 */
final class GgufArray extends AbstractList<GgufValue> implements RandomAccess {
    private final GgufValueType elementType;
    private final Object items;   // [size] of the element type's Java array type, see above
    private final int size;

    GgufArray(GgufValueType elementType, Object items) {
        this.elementType = elementType;
        this.items = items;
        this.size = switch (items) {
            case byte[] a when elementType == GgufValueType.UINT8 || elementType == GgufValueType.INT8 -> a.length;
            case short[] a when elementType == GgufValueType.UINT16 || elementType == GgufValueType.INT16 -> a.length;
            case int[] a when elementType == GgufValueType.UINT32 || elementType == GgufValueType.INT32 -> a.length;
            case long[] a when elementType == GgufValueType.UINT64 || elementType == GgufValueType.INT64 -> a.length;
            case float[] a when elementType == GgufValueType.FLOAT32 -> a.length;
            case double[] a when elementType == GgufValueType.FLOAT64 -> a.length;
            case boolean[] a when elementType == GgufValueType.BOOL -> a.length;
            case String[] a when elementType == GgufValueType.STRING -> a.length;
            default -> throw new IllegalArgumentException(items.getClass().getSimpleName() + " cannot hold GGUF "
                    + elementType + " elements");
        };
    }

    GgufValueType elementType() {
        return elementType;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public GgufValue get(int i) {
        return new GgufValue(elementType, raw(i), null);
    }

    /** Element {@code i} as {@link GgufValue#value()} holds it (Long, Float, Double, Boolean, String). */
    private Object raw(int i) {
        return switch (items) {
            case byte[] a -> elementType == GgufValueType.UINT8 ? (long) (a[i] & 0xFF) : (long) a[i];
            case short[] a -> elementType == GgufValueType.UINT16 ? (long) (a[i] & 0xFFFF) : (long) a[i];
            case int[] a -> elementType == GgufValueType.UINT32 ? a[i] & 0xFFFFFFFFL : (long) a[i];
            case long[] a -> a[i];
            case float[] a -> a[i];
            case double[] a -> a[i];
            case boolean[] a -> a[i];
            case String[] a -> a[i];
            default -> throw new IllegalStateException();
        };
    }

    /** The elements as plain Java values, as {@link GgufValue#plain()} gives them (FLOAT32 as Double); a view. */
    List<Object> plainView() {
        return new PlainView();
    }

    private final class PlainView extends AbstractList<Object> implements RandomAccess {
        @Override
        public Object get(int i) {
            return items instanceof float[] a ? (Object) (double) a[i] : raw(i);
        }

        @Override
        public int size() {
            return size;
        }
    }
}

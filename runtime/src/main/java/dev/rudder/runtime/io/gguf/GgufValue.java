package dev.rudder.runtime.io.gguf;

import java.util.List;
import java.util.Objects;

/**
 * One typed GGUF metadata value. Java representation of {@code value} by type: every integer type as
 * {@link Long} (UINT64 as its raw 64 bits), FLOAT32 as {@link Float}, FLOAT64 as {@link Double}, BOOL as
 * {@link Boolean}, STRING as {@link String}, ARRAY as an immutable {@code List<GgufValue>} (all of {@code elementType};
 * read from a file, a compact list whose elements are made on access).
 */
public record GgufValue(GgufValueType type, Object value, GgufValueType elementType) {

    public GgufValue {
        Objects.requireNonNull(type);
        Objects.requireNonNull(value);
        Object v = value;
        boolean ok = switch (type) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> v instanceof Long;
            case FLOAT32 -> v instanceof Float;
            case FLOAT64 -> v instanceof Double;
            case BOOL -> v instanceof Boolean;
            case STRING -> v instanceof String;
            case ARRAY -> v instanceof List<?> && elementType != null && elementType != GgufValueType.ARRAY;
        };
        if (!ok) {
            throw new IllegalArgumentException("value " + v + " (" + v.getClass().getSimpleName()
                    + ") does not fit GGUF type " + type);
        }
        if (type == GgufValueType.ARRAY) {
            if (v instanceof GgufArray a && a.elementType() != elementType) {
                throw new IllegalArgumentException("array of " + a.elementType() + " given as an array of " + elementType);
            }
            value = v instanceof GgufArray ? v : List.copyOf((List<?>) v);
        } else {
            elementType = null;
        }
    }

    public static GgufValue string(String s) {
        return new GgufValue(GgufValueType.STRING, s, null);
    }

    public static GgufValue int32(int i) {
        return new GgufValue(GgufValueType.INT32, (long) i, null);
    }

    public static GgufValue uint32(long i) {
        return new GgufValue(GgufValueType.UINT32, i & 0xFFFFFFFFL, null);
    }

    public static GgufValue float32(float f) {
        return new GgufValue(GgufValueType.FLOAT32, f, null);
    }

    public static GgufValue float64(double d) {
        return new GgufValue(GgufValueType.FLOAT64, d, null);
    }

    public static GgufValue bool(boolean b) {
        return new GgufValue(GgufValueType.BOOL, b, null);
    }

    /** The value as a long, for the integer types; null otherwise. */
    public Long asLong() {
        return type.isInteger() ? (Long) value : null;
    }

    /** The value as a double, for the integer and float types; null otherwise. */
    public Double asDouble() {
        return switch (type) {
            case FLOAT32 -> (double) (Float) value;
            case FLOAT64 -> (Double) value;
            default -> type.isInteger() ? (double) (Long) value : null;
        };
    }

    /** The value as a plain Java object: Long, Double (both float types), Boolean, String, or a List of those. */
    public Object plain() {
        return switch (type) {
            case FLOAT32 -> (double) (Float) value;
            case ARRAY -> {
                if (value instanceof GgufArray a) {
                    yield a.plainView();
                }
                List<?> l = (List<?>) value;
                List<Object> out = new java.util.ArrayList<>(l.size());
                for (Object o : l) {
                    out.add(((GgufValue) o).plain());
                }
                yield java.util.Collections.unmodifiableList(out);
            }
            default -> value;
        };
    }

    /**
     * A value from a plain Java one (a GgufValue passes through): String; Integer (a count or token id: UINT32); Long (UINT64); Boolean; Float or
     * Double (FLOAT32); a List of Strings; int[] (INT32 array); float[] (FLOAT32 array).
     */
    public static GgufValue fromPlain(Object v) {
        return switch (v) {
            case GgufValue g -> g;
            case String s -> string(s);
            case Integer i -> uint32(i);
            case Long l -> new GgufValue(GgufValueType.UINT64, l, null);
            case Boolean b -> bool(b);
            case Float f -> float32(f);
            case Double d -> float32((float) (double) d);
            case int[] a -> int32s(a);
            case float[] a -> floats(a);
            case List<?> l -> strings(l.stream().map(o -> (String) o).toList());
            default -> throw new IllegalArgumentException("no GGUF type for " + v.getClass().getSimpleName());
        };
    }

    /** An array of strings. */
    public static GgufValue strings(List<String> items) {
        return new GgufValue(GgufValueType.ARRAY, new GgufArray(GgufValueType.STRING, items.toArray(new String[0])),
                GgufValueType.STRING);
    }

    /** An array of FLOAT32. */
    public static GgufValue floats(float[] items) {
        return new GgufValue(GgufValueType.ARRAY, new GgufArray(GgufValueType.FLOAT32, items.clone()), GgufValueType.FLOAT32);
    }

    /** An array of INT32. */
    public static GgufValue int32s(int[] items) {
        return new GgufValue(GgufValueType.ARRAY, new GgufArray(GgufValueType.INT32, items.clone()), GgufValueType.INT32);
    }

    /** The value as text (arrays as {@code [a, b]}). */
    public String asText() {
        if (type == GgufValueType.ARRAY) {
            StringBuilder sb = new StringBuilder("[");
            List<?> l = (List<?>) value;
            for (int i = 0; i < l.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append(((GgufValue) l.get(i)).asText());
            }
            return sb.append(']').toString();
        }
        if (type == GgufValueType.UINT64) {
            return Long.toUnsignedString((Long) value);
        }
        return String.valueOf(value);
    }
}

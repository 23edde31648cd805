package dev.rudder.runtime.backend;

/**
 * The storage of a sequence's keys and of its values ({@code --cache-type-k}, {@code --cache-type-v}).
 * {@link #DEFAULT} is float32 for both: the goldens' numerics, bit for bit.
 */
public record KvCacheTypes(KvCacheType keys, KvCacheType values) {
    public static final KvCacheTypes DEFAULT = new KvCacheTypes(KvCacheType.F32, KvCacheType.F32);

    public KvCacheTypes {
        keys = keys == null ? KvCacheType.F32 : keys;
        values = values == null ? KvCacheType.F32 : values;
    }

    /** Bytes of keys plus values per position and layer, for {@code kvDim} key (and value) dimensions. */
    public long bytesPerPosition(int kvDim) {
        return (long) kvDim * (keys.bytes() + values.bytes());
    }

    /** E.g. {@code "k f16, v f32"}. */
    @Override
    public String toString() {
        return "k " + keys.label() + ", v " + values.label();
    }
}

package dev.rudder.runtime.backend;

import dev.rudder.runtime.io.ModelConfig;

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

    /** Bytes one position's keys and values take in every layer of {@code cfg}'s cache. */
    public long bytesPerPosition(ModelConfig cfg) {
        return (long) cfg.numLayers() * cfg.numKvHeads() * cfg.headDim() * (keys.bytes() + values.bytes());
    }

    /** E.g. {@code "k f16, v f32"}. */
    @Override
    public String toString() {
        return "k " + keys.label() + ", v " + values.label();
    }
}

package dev.rudder.runtime.backend;

import dev.rudder.runtime.BadInputException;

import java.util.Locale;

/**
 * How a sequence's KV cache holds keys or values, named as llama.cpp's {@code --cache-type-k/-v} values. F32 keeps
 * every value as computed; F16 and BF16 round each value once when it is stored (IEEE half: 11 significant bits,
 * range to 65504; bfloat16: 8 significant bits, float32's range), halving the cache's memory and what attention reads
 * per token, which bounds decode at long contexts.
 */
public enum KvCacheType {
    F32(4), F16(2), BF16(2);

    private final int bytes;

    KvCacheType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes per stored value. */
    public int bytes() {
        return bytes;
    }

    /** The name as options spell it: {@code f32}, {@code f16}, {@code bf16}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** {@code f32}, {@code f16} or {@code bf16} in any case; anything else is bad input naming the choices. */
    public static KvCacheType parse(String s) {
        String t = s == null ? "" : s.trim().toUpperCase(Locale.ROOT);
        for (KvCacheType k : values()) {
            if (k.name().equals(t)) {
                return k;
            }
        }
        throw new BadInputException("unknown KV cache type '" + s + "'; expected f32, f16 or bf16");
    }
}

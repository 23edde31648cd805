package dev.rudder.cli;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.backend.KvCacheType;
import dev.rudder.runtime.backend.KvCacheTypes;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** {@code -ctk/--cache-type-k} and {@code -ctv/--cache-type-v}, named as llama.cpp and llama-bench name them. */
final class KvCacheOptions {
    @Option(names = {"-ctk", "--cache-type-k"}, defaultValue = "f32", paramLabel = "f32|f16|bf16", converter = CacheTypeConverter.class,
            description = "KV cache type for keys (default f32); f16 and bf16 halve the cache's memory and what attention"
                    + " reads at long contexts, rounding each key once when stored (CPU only)")
    KvCacheType keys;

    @Option(names = {"-ctv", "--cache-type-v"}, defaultValue = "f32", paramLabel = "f32|f16|bf16", converter = CacheTypeConverter.class,
            description = "KV cache type for values (default f32), as --cache-type-k")
    KvCacheType values;

    /** The choice. */
    KvCacheTypes types() {
        return new KvCacheTypes(keys, values);
    }

    /** {@code f32}, {@code f16}, {@code bf16} in any case; anything else is a usage error naming the choices. */
    static final class CacheTypeConverter implements CommandLine.ITypeConverter<KvCacheType> {
        @Override
        public KvCacheType convert(String value) {
            try {
                return KvCacheType.parse(value);
            } catch (BadInputException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}

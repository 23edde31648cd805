package dev.rudder.tokenizer;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Test data location and cached tokenizers. */
final class Shared {
    private Shared() {
    }

    static final Path DIR = Path.of(System.getProperty("rudder.shared", "../../shared"));
    private static final Map<String, Tokenizer> CACHE = new ConcurrentHashMap<>();

    static Path tokenizers() {
        return DIR.resolve("models/tokenizers");
    }

    static Tokenizer family(String family) {
        return CACHE.computeIfAbsent(family, f -> Tokenizer.fromModelDir(tokenizers().resolve(f)));
    }
}

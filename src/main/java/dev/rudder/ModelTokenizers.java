package dev.rudder;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.gguf.GgufFile;
import dev.rudder.runtime.io.gguf.GgufModel;
import dev.rudder.tokenizer.GgufTokenizer;
import dev.rudder.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The tokenizer of a model, from either form a user may point at: a model folder ({@code tokenizer.json} and
 * {@code tokenizer_config.json}, or a llama2.c {@code tokenizer.bin}) or a GGUF file (its {@code tokenizer.*}
 * metadata, read here and handed to the tokenizer module as plain Java values).
 */
public final class ModelTokenizers {
    private ModelTokenizers() {
    }

    /** The tokenizer of {@code dirOrGguf}, or empty when it has none. */
    public static Optional<Tokenizer> find(Path dirOrGguf) {
        if (GgufModel.isGgufFile(dirOrGguf)) {
            Map<String, Object> md;
            try (GgufFile g = GgufModel.open(dirOrGguf)) {
                md = g.plainMetadata();
            }
            return GgufTokenizer.hasTokenizer(md) ? Optional.of(GgufTokenizer.fromMetadata(md, dirOrGguf.toString()))
                    : Optional.empty();
        }
        return hasTokenizerFiles(dirOrGguf) ? Optional.of(Tokenizer.fromModelDir(dirOrGguf)) : Optional.empty();
    }

    /** The tokenizer of {@code dirOrGguf}; a {@link BadInputException} when it has none. */
    public static Tokenizer load(Path dirOrGguf) {
        if (GgufModel.isGgufFile(dirOrGguf) || !Files.isDirectory(dirOrGguf)) {
            return find(dirOrGguf).orElseThrow(() -> new BadInputException(dirOrGguf
                    + " has no tokenizer (no tokenizer.ggml.model in its GGUF metadata)"));
        }
        return Tokenizer.fromModelDir(dirOrGguf);
    }

    /** tokenizer.json, or a llama2.c tokenizer.bin / tok*.bin (as llama2.c checkpoints ship). */
    private static boolean hasTokenizerFiles(Path dir) {
        if (Files.exists(dir.resolve("tokenizer.json")) || Files.exists(dir.resolve("tokenizer.bin"))) {
            return true;
        }
        try (var files = Files.list(dir)) {
            return files.anyMatch(f -> f.getFileName().toString().matches("tok.*\\.bin"));
        } catch (IOException e) {
            return false;
        }
    }
}

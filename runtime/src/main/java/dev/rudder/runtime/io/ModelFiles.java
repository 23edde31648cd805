package dev.rudder.runtime.io;

import dev.rudder.runtime.io.gguf.GgufFile;
import dev.rudder.runtime.io.gguf.GgufModel;

import java.nio.file.Path;

/**
 * The configuration and mapped weights of a model, from either of the two forms a user may point at: a Hugging Face
 * folder ({@code config.json} + safetensors, or an HF cache folder) or a single GGUF file. Closing unmaps the weights.
 *
 * @param path the resolved model folder, or the GGUF file
 * @param gguf whether {@code path} is a GGUF file
 */
public record ModelFiles(Path path, ModelConfig config, TensorStore store, boolean gguf) implements AutoCloseable {

    /** Opens {@code dirOrGguf}; every problem is a {@link dev.rudder.runtime.BadInputException} naming file and field. */
    public static ModelFiles open(Path dirOrGguf) {
        boolean ggufName = dirOrGguf.getFileName() != null && dirOrGguf.getFileName().toString().endsWith(".gguf");
        if (GgufModel.isGgufFile(dirOrGguf) || (ggufName && java.nio.file.Files.isRegularFile(dirOrGguf))) {
            GgufFile g = GgufModel.open(dirOrGguf);
            try {
                ModelConfig config = GgufModel.config(g);
                return new ModelFiles(dirOrGguf, config, GgufModel.tensors(g, config), true);
            } catch (RuntimeException e) {
                g.close();
                throw e;
            }
        }
        Path dir = ModelDirectory.resolve(dirOrGguf);
        ModelConfig config = ModelConfig.read(dir.resolve(ModelDirectory.CONFIG));
        return new ModelFiles(dir, config, TensorStore.open(dir), false);
    }

    @Override
    public void close() {
        store.close();
    }
}

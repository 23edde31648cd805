package dev.rudder.cli;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.SafeTensorsFile;
import dev.rudder.runtime.io.TensorInfo;
import dev.rudder.runtime.io.TensorStore;
import dev.rudder.runtime.model.PromptInput;

import java.nio.file.Path;

/** Reads a learned soft prompt: a safetensors file with exactly one 2-D tensor {@code [rows, hidden]}. */
final class SoftPrompt {
    private SoftPrompt() {
    }

    static PromptInput read(Path file, int hidden) {
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            if (f.tensors().size() != 1) {
                throw new BadInputException("soft prompt " + file + " must hold exactly one tensor, it has " + f.tensors().size());
            }
            TensorInfo t = f.tensors().get(0);
            if (t.shape().length != 2 || t.shape()[1] != hidden) {
                throw new BadInputException("soft prompt tensor " + t.name() + " in " + file + " has shape "
                        + java.util.Arrays.toString(t.shape()) + ", expected [rows, " + hidden + "]");
            }
            float[] all = TensorStore.toFloats(t);
            for (int i = 0; i < all.length; i++) {
                if (!Float.isFinite(all[i])) {
                    throw new BadInputException("soft prompt " + file + " tensor " + t.name() + " holds a non-finite value ("
                            + all[i] + ") in row " + i / hidden + ", column " + i % hidden);
                }
            }
            int rows = (int) t.shape()[0];
            float[][] out = new float[rows][];
            for (int r = 0; r < rows; r++) {
                out[r] = java.util.Arrays.copyOfRange(all, r * hidden, (r + 1) * hidden);
            }
            return PromptInput.embeddings(out);
        }
    }
}

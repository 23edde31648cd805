package dev.rudder.runtime.io.gguf;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.io.OutputPaths;
import dev.rudder.runtime.io.TensorInfo;
import dev.rudder.runtime.io.TensorStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Coverage-guided fuzzing of the GGUF model reader (issue 11): header, metadata, tensor table,
 * the config derived from the metadata and the tensors' bytes. Each input must load or fail with
 * a {@link BadInputException}; anything else is a finding. `mvn verify` replays the seeds in
 * src/test/resources/dev/rudder/runtime/io/gguf/GgufFuzzTestInputs; JAZZER_FUZZ=1 fuzzes.
 */
class GgufFuzzTest {
    private static final Path DIR;

    static {
        try {
            DIR = Files.createTempDirectory("rudder-fuzz");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterAll
    static void removeTheFolder() {
        OutputPaths.deleteTree(DIR);
    }

    @FuzzTest(maxDuration = "10s")
    void ggufModelsOpenOrFailWithABadInputException(byte[] bytes) throws IOException {
        Path file = Files.write(DIR.resolve("model.gguf"), bytes);
        GgufFile g;
        try {
            g = GgufFile.open(file);
        } catch (BadInputException expected) {
            return;   // names the file and the field
        }
        boolean storeOwnsArena = false;
        try {
            for (GgufTensor t : g.tensors()) {
                if (t.elementCount() <= 1 << 16) {
                    g.readFloats(t);
                }
            }
            g.plainMetadata();
            ModelConfig c = GgufModel.config(g);
            try (TensorStore s = GgufModel.tensors(g, c)) {
                storeOwnsArena = true;
                for (TensorInfo t : s.all()) {
                    if (t.elementCount() <= 1 << 16) {
                        s.readFloats(t);
                    }
                }
            }
        } catch (BadInputException expected) {
            // names the file and the field
        } finally {
            if (!storeOwnsArena) {
                g.close();
            }
        }
    }
}

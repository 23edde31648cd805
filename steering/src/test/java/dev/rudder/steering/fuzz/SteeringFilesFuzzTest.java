package dev.rudder.steering.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.OutputPaths;
import dev.rudder.runtime.io.gguf.GgufFile;
import dev.rudder.runtime.io.gguf.GgufTensor;
import dev.rudder.steering.prompts.PromptFile;
import dev.rudder.steering.vectors.ControlVectorGguf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Coverage-guided fuzzing of the steering module's file readers (issue 11): GGUF (llama.cpp
 * control vectors) and prompt files. Each input must load or fail with a {@link BadInputException};
 * anything else is a finding. `mvn verify` runs the seeds under src/test/resources; JAZZER_FUZZ=1 fuzzes.
 */
class SteeringFilesFuzzTest {
    private static final Path DIR;

    static {
        try {
            DIR = Files.createTempDirectory("rudder-fuzz");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path write(String name, byte[] bytes) {
        try {
            return Files.write(DIR.resolve(name), bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @AfterAll
    static void removeTheFolder() {
        OutputPaths.deleteTree(DIR);
    }

    @FuzzTest(maxDuration = "10s")
    void ggufFilesOpenOrFailWithABadInputException(byte[] bytes) {
        Path file = write("v.gguf", bytes);
        try (GgufFile f = GgufFile.open(file)) {
            for (GgufTensor t : f.tensors()) {
                if (t.elementCount() <= 1 << 16) {
                    f.readFloats(t);
                }
            }
        } catch (BadInputException expected) {
            // names the file and field
        }
        try {
            ControlVectorGguf.read(file);
        } catch (BadInputException expected) {
            // not a control vector, or a broken one
        }
    }

    @FuzzTest(maxDuration = "10s")
    void promptFilesReadOrFailWithABadInputException(byte[] bytes) {
        Path file = write("prompts.jsonl", bytes);
        try {
            PromptFile.read(file);
        } catch (BadInputException expected) {
            // names the line or the byte offset
        }
    }
}

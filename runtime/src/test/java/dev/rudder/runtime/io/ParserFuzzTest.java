package dev.rudder.runtime.io;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import com.fasterxml.jackson.databind.JsonNode;
import dev.rudder.runtime.BadInputException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Coverage-guided fuzzing of the model-file parsers (issue 11): safetensors headers, sharded
 * checkpoints' index files and config.json. Each input must parse or fail with a
 * {@link BadInputException}; any other exception or Error is a finding. `mvn verify` runs the
 * seeds in src/test/resources/dev/rudder/runtime/io/ParserFuzzTestInputs; JAZZER_FUZZ=1 fuzzes.
 */
class ParserFuzzTest {
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

    /** Reads every small tensor: offsets and dtypes must have been checked at open. */
    private static void readAll(SafeTensorsFile f) {
        for (TensorInfo t : f.tensors()) {
            if (t.elementCount() <= 1 << 16) {
                try {
                    TensorStore.toFloats(t);
                } catch (BadInputException expected) {
                    // e.g. an integer dtype that has no float reading
                }
            }
        }
    }

    @AfterAll
    static void removeTheFolder() {
        OutputPaths.deleteTree(DIR);
    }

    @FuzzTest(maxDuration = "10s")
    void safetensorsFilesOpenOrFailWithABadInputException(byte[] bytes) {
        Path file = write("model.safetensors", bytes);
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            readAll(f);
        } catch (BadInputException expected) {
            // a clear error naming the file
        }
    }

    @FuzzTest(maxDuration = "10s")
    void shardIndexesOpenOrFailWithABadInputException(byte[] index) throws IOException {
        Path dir = Files.createDirectories(DIR.resolve("sharded"));
        try (var old = Files.list(dir)) {
            for (Path p : old.toList()) {
                Files.delete(p);
            }
        }
        // a valid one-tensor shard ("x", F32 [2]) the index may (or may not) point at
        new SafeTensorsWriter(java.util.Map.of()).add("x", new float[]{1, 2}, 2).write(dir.resolve("model-00001-of-00001.safetensors"));
        Files.write(dir.resolve(TensorStore.INDEX_FILE), index);
        try (TensorStore s = TensorStore.open(dir)) {
            for (TensorInfo t : s.all()) {
                if (t.elementCount() <= 1 << 16) {
                    try {
                        s.readFloats(t);
                    } catch (BadInputException expected) {
                        // dtype without a float reading
                    }
                }
            }
        } catch (BadInputException expected) {
            // a clear error naming the index or the shard
        }
    }

    @FuzzTest(maxDuration = "10s")
    void configJsonParsesOrFailsWithABadInputException(byte[] json) {
        JsonNode node;
        try {
            node = SafeTensorsFile.json().readTree(json);
        } catch (IOException notJson) {
            return;
        }
        if (node == null) {
            return;
        }
        try {
            ModelConfig c = ModelConfig.fromJson(node, "config.json");
            c.toJson();
        } catch (BadInputException expected) {
            // names the field
        }
    }
}

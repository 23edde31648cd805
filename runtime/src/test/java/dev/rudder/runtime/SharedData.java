package dev.rudder.runtime;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the tests find {@code ../shared/} (models, goldens, prompts). */
public final class SharedData {
    private SharedData() {
    }

    public static Path root() {
        Path p = Path.of(System.getProperty("rudder.shared", "../../shared")).toAbsolutePath().normalize();
        if (!Files.isDirectory(p)) {
            throw new IllegalStateException("shared test data not found at " + p + " (set -Drudder.shared)");
        }
        return p;
    }

    public static Path model(String name) {
        return root().resolve("models").resolve(name);
    }

    public static Path golden(String... parts) {
        return root().resolve("golden").resolve(Path.of("", parts));
    }
}

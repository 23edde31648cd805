package dev.rudder.runtime.io;

import dev.rudder.runtime.BadInputException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Finds the folder holding {@code config.json} and the weights, given what a user typed:
 * <ul>
 *   <li>a plain Hugging Face model folder (with {@code config.json});</li>
 *   <li>a Hugging Face cache folder {@code models--org--name}: {@code refs/main} names the snapshot to use,
 *       else the only (or newest) snapshot with a {@code config.json};</li>
 *   <li>its {@code snapshots} folder, or one {@code snapshots/<rev>} folder.</li>
 * </ul>
 */
public final class ModelDirectory {

    public static final String CONFIG = "config.json";

    private ModelDirectory() {
    }

    /** The model folder (holding {@code config.json}) for {@code dirOrHfCache}; a {@link BadInputException} otherwise. */
    public static Path resolve(Path dirOrHfCache) {
        Path dir = dirOrHfCache;
        if (!Files.exists(dir)) {
            throw new BadInputException("model folder " + dir + " does not exist");
        }
        if (!Files.isDirectory(dir)) {
            if (dir.getFileName() != null && dir.getFileName().toString().equals(CONFIG) && dir.getParent() != null) {
                return dir.getParent();
            }
            throw new BadInputException("model folder " + dir + " is a file, not a folder");
        }
        if (Files.isRegularFile(dir.resolve(CONFIG))) {
            return dir;
        }
        Path snapshots = dir.resolve("snapshots");
        if (Files.isDirectory(snapshots)) {
            Path ref = dir.resolve("refs").resolve("main");
            if (Files.isRegularFile(ref)) {
                try {
                    String rev = Files.readString(ref, StandardCharsets.UTF_8).trim();
                    Path snap = snapshots.resolve(rev);
                    if (!rev.isEmpty() && !rev.contains("/") && !rev.contains("\\") && Files.isRegularFile(snap.resolve(CONFIG))) {
                        return snap;
                    }
                } catch (IOException e) {
                    // fall through to picking a snapshot
                }
            }
            return newestSnapshot(snapshots, dir);
        }
        if (dir.getFileName() != null && dir.getFileName().toString().equals("snapshots")) {
            return newestSnapshot(dir, dir);
        }
        if (dir.getFileName() != null && dir.getFileName().toString().startsWith("models--")) {
            throw new BadInputException("no snapshots folder in Hugging Face cache folder " + dir
                    + " (the model was not fully downloaded?)");
        }
        List<String> cached = list(dir).stream().map(p -> p.getFileName().toString())
                .filter(n -> n.startsWith("models--")).sorted().toList();
        if (!cached.isEmpty()) {
            throw new BadInputException("no config.json in " + dir + "; it looks like a Hugging Face cache, pass one of its model folders: "
                    + String.join(", ", cached.subList(0, Math.min(5, cached.size()))) + (cached.size() > 5 ? ", ..." : ""));
        }
        throw new BadInputException("no config.json in " + dir + " (expected a Hugging Face model folder)");
    }

    private static Path newestSnapshot(Path snapshots, Path shown) {
        List<Path> candidates = list(snapshots).stream()
                .filter(p -> Files.isDirectory(p) && Files.isRegularFile(p.resolve(CONFIG)))
                .sorted(Comparator.comparing(ModelDirectory::mtime).reversed().thenComparing(Path::toString))
                .toList();
        if (candidates.isEmpty()) {
            throw new BadInputException("no config.json in any snapshot of " + shown + " (looked in " + snapshots + ")");
        }
        return candidates.getFirst();
    }

    private static FileTime mtime(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    private static List<Path> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        } catch (IOException e) {
            throw new BadInputException("cannot list folder " + dir + ": " + e.getMessage(), e);
        }
    }
}

package dev.rudder.runtime.io;

import dev.rudder.runtime.BadInputException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Output files are written to a temporary sibling and moved into place; a failure must still
 * name the path the user asked for and the reason, not the temporary name.
 */
public final class OutputPaths {
    private OutputPaths() {
    }

    /** Fails early for a target that is a directory (a move would replace an empty one). */
    public static void checkTarget(Path file) {
        if (Files.isDirectory(file)) {
            throw new BadInputException("cannot write " + file + ": it is a directory");
        }
    }

    /** The user-facing error for an {@link IOException} while writing {@code file}. */
    public static BadInputException cannotWrite(Path file, IOException e) {
        Path dir = file.toAbsolutePath().getParent();
        String reason;
        if (e instanceof AccessDeniedException) {
            reason = "permission denied" + (dir != null && !Files.isWritable(dir) ? " (directory " + dir + " is not writable)" : "");
        } else if (e instanceof NoSuchFileException || e instanceof NotDirectoryException) {
            reason = "the folder " + dir + " does not exist or is not a folder";
        } else if (e instanceof FileSystemException fse && fse.getReason() != null) {
            reason = fse.getReason();
        } else {
            reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
        return new BadInputException("cannot write " + file + ": " + reason, e);
    }

    /**
     * Deletes {@code dir} and everything under it, as far as it can: for temporary folders, where one left
     * behind is harmless and must not fail the work that made it.
     */
    public static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // best effort
        }
    }

    /**
     * A fresh temporary path beside {@code absTarget} ({@code .NAME.<random>.tmp}), to write and
     * then move over the target. Not {@code Files.createTempFile}: that makes the file owner-only
     * (0600); a file created with {@code CREATE_NEW} at this path gets the usual permissions.
     */
    public static Path temporarySibling(Path absTarget) {
        Path dir = absTarget.getParent();
        return (dir == null ? Path.of(".") : dir).resolve("." + absTarget.getFileName() + "."
                + Long.toHexString(System.nanoTime() ^ Thread.currentThread().threadId() * 0x9E3779B97F4A7C15L) + ".tmp");
    }
}

package dev.rudder.steering.vectors;

import dev.rudder.runtime.BadInputException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Reads and writes steering-vector files in either supported format:
 * <ul>
 *   <li><b>safetensors</b> ({@link SafetensorsVectors}): Rudder's own format, {@code direction.l} tensors plus
 *       {@code rudder.*} metadata;</li>
 *   <li><b>llama.cpp control-vector GGUF</b> ({@link ControlVectorGguf}).</li>
 * </ul>
 * Both number layers the same way: {@code direction.l} is added to the output of 0-based decoder block {@code l},
 * exactly as in llama.cpp (see {@link SteeringVectors} for {@code direction.0} and {@code cvector-generator}).
 *
 * <p>{@link #read} recognises the format by the file's first bytes, not its name; {@link #write} picks it by the
 * extension ({@code .gguf} or {@code .safetensors}).
 */
public final class SteeringVectorFiles {

    /** The two file formats. */
    public enum Format {
        SAFETENSORS, GGUF;

        /** The format an output name asks for, by extension; null if neither. */
        public static Format byExtension(Path file) {
            String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
            if (n.endsWith(".gguf")) {
                return GGUF;
            }
            if (n.endsWith(".safetensors")) {
                return SAFETENSORS;
            }
            return null;
        }
    }

    private SteeringVectorFiles() {
    }

    /**
     * Finds the format of an existing file from its first bytes: {@code GGUF} magic, or a safetensors header
     * (8-byte little-endian length followed by {@code '{'}).
     *
     * @throws BadInputException when it is neither
     */
    public static Format sniff(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new NoSuchFileException(file.toString(), null, "vector file does not exist");
        }
        if (Files.isDirectory(file)) {
            throw new BadInputException("vector file " + file + " is a directory");
        }
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(9);
        }
        if (head.length >= 4 && head[0] == 'G' && head[1] == 'G' && head[2] == 'U' && head[3] == 'F') {
            return Format.GGUF;
        }
        if (head.length == 9) {
            long len = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (len > 0 && len < Files.size(file) && head[8] == '{') {
                return Format.SAFETENSORS;
            }
        }
        throw new BadInputException("vector file " + file
                + " is neither safetensors nor GGUF (unrecognised first bytes)");
    }

    /** Reads a vector file of either format (by content). */
    public static SteeringVectors read(Path file) throws IOException {
        return switch (sniff(file)) {
            case GGUF -> ControlVectorGguf.read(file);
            case SAFETENSORS -> SafetensorsVectors.read(file);
        };
    }

    /**
     * Writes {@code vectors} in the format named by the extension of {@code file}.
     *
     * @throws BadInputException for another extension, or a layer-0 vector written as GGUF
     */
    public static void write(Path file, SteeringVectors vectors) throws IOException {
        Format f = Format.byExtension(file);
        if (f == null) {
            throw new BadInputException("output " + file + ": use the extension .safetensors (Rudder) or .gguf "
                    + "(llama.cpp control vector)");
        }
        write(file, vectors, f);
    }

    /** Writes {@code vectors} in the given format, whatever the file name. */
    public static void write(Path file, SteeringVectors vectors, Format format) throws IOException {
        switch (format) {
            case GGUF -> ControlVectorGguf.write(file, vectors);
            case SAFETENSORS -> SafetensorsVectors.write(file, vectors);
        }
    }
}

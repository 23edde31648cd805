package dev.rudder.runtime.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.runtime.BadInputException;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A safetensors file mapped read-only into memory ({@link FileChannel#map} into a {@link MemorySegment},
 * zero copy). The header is parsed and validated on open, so every {@link TensorInfo} handed out has
 * a known dtype, a shape whose byte size matches its data, and data inside the file that does not
 * overlap any other tensor. Anything wrong is a {@link BadInputException} naming the file and tensor.
 *
 * <p>Format: 8 bytes little-endian unsigned header length {@code N}, {@code N} bytes of UTF-8 JSON
 * ({@code {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}}),
 * then the data area; offsets are relative to the start of the data area.
 */
public final class SafeTensorsFile implements AutoCloseable {

    /** Little-endian unaligned layouts for reading tensor data. */
    public static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfDouble F64_LE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** The safetensors format caps the header at 100 MB; we refuse larger ones instead of allocating them. */
    public static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    /**
     * The JSON mapper for headers, config.json and index files, made on first use: a GGUF model never needs it, and
     * making one initialises Jackson (with BigDecimal's constant tables, ~0.15 s of CPU in a cold JVM).
     */
    static ObjectMapper json() {
        return Json.MAPPER;
    }

    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    }

    private final Path path;
    private final Arena arena;
    private final boolean ownsArena;
    private final MemorySegment mapped;
    private final Map<String, String> metadata;
    private final List<TensorInfo> tensors;
    private final Map<String, TensorInfo> byName;
    private final long headerLength;

    private SafeTensorsFile(Path path, Arena arena, boolean ownsArena, MemorySegment mapped, long headerLength,
                            Map<String, String> metadata, List<TensorInfo> tensors) {
        this.path = path;
        this.arena = arena;
        this.ownsArena = ownsArena;
        this.mapped = mapped;
        this.headerLength = headerLength;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = List.copyOf(tensors);
        Map<String, TensorInfo> m = new LinkedHashMap<>();
        for (TensorInfo t : tensors) {
            m.put(t.name(), t);
        }
        this.byName = Collections.unmodifiableMap(m);
    }

    /** Maps {@code file} with its own shared arena; {@link #close()} unmaps it. */
    public static SafeTensorsFile open(Path file) {
        Arena arena = Arena.ofShared();
        try {
            return open(file, arena, true);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** Maps {@code file} into a caller-owned arena; {@link #close()} leaves the arena (and the mapping) alone. */
    public static SafeTensorsFile open(Path file, Arena arena) {
        return open(file, arena, false);
    }

    private static SafeTensorsFile open(Path file, Arena arena, boolean ownsArena) {
        if (!Files.exists(file)) {
            throw new BadInputException("safetensors file " + file + " does not exist");
        }
        if (Files.isDirectory(file)) {
            throw new BadInputException("safetensors file " + file + " is a folder, not a file");
        }
        MemorySegment seg;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new BadInputException("safetensors file " + file + " is truncated: " + size
                        + " bytes, shorter than the 8-byte header length");
            }
            seg = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena).asReadOnly();
        } catch (NoSuchFileException e) {
            throw new BadInputException("safetensors file " + file + " does not exist", e);
        } catch (IOException e) {
            throw new BadInputException("cannot read safetensors file " + file + ": " + e.getMessage(), e);
        }
        return parse(file, arena, ownsArena, seg);
    }

    private static SafeTensorsFile parse(Path file, Arena arena, boolean ownsArena, MemorySegment seg) {
        long size = seg.byteSize();
        long n = seg.get(I64_LE, 0);
        if (n < 0 || n > size - 8) {
            throw new BadInputException("safetensors file " + file + " is truncated or corrupt: header length "
                    + Long.toUnsignedString(n) + " is larger than the " + (size - 8) + " bytes after the length field");
        }
        if (n > MAX_HEADER_BYTES) {
            throw new BadInputException("safetensors file " + file + " has a header of " + n
                    + " bytes, more than the 100 MB the format allows");
        }
        if (n < 2) {
            throw new BadInputException("safetensors file " + file + " has an empty header (length " + n + ")");
        }
        byte[] header = seg.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
        JsonNode root;
        try {
            root = json().readTree(header);
        } catch (JsonProcessingException e) {
            throw new BadInputException("safetensors file " + file + " has a header that is not valid JSON: "
                    + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new BadInputException("cannot read the header of safetensors file " + file + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new BadInputException("safetensors file " + file + " has a header that is not a JSON object: "
                    + preview(header));
        }
        long dataStart = 8 + n;
        long dataSize = size - dataStart;
        MemorySegment dataArea = seg.asSlice(dataStart, dataSize);

        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> tensors = new ArrayList<>();
        List<long[]> ranges = new ArrayList<>(); // begin, end, index
        Iterator<Map.Entry<String, JsonNode>> it = root.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode v = e.getValue();
            if (name.equals("__metadata__")) {
                if (v.isNull()) {
                    continue;
                }
                if (!v.isObject()) {
                    throw new BadInputException("safetensors file " + file + ": __metadata__ is not a JSON object");
                }
                v.fields().forEachRemaining(m -> metadata.put(m.getKey(),
                        m.getValue().isTextual() ? m.getValue().asText() : m.getValue().toString()));
                continue;
            }
            String where = "tensor " + name + " in " + file;
            if (!v.isObject()) {
                throw new BadInputException(where + ": header entry is not a JSON object");
            }
            JsonNode dt = v.get("dtype");
            DType dtype = DType.parse(dt != null && dt.isTextual() ? dt.asText() : (dt == null ? null : dt.toString()),
                    file, name);
            JsonNode sh = v.get("shape");
            if (sh == null || !sh.isArray()) {
                throw new BadInputException(where + ": missing or invalid \"shape\" (expected a JSON array of integers)");
            }
            long[] shape = new long[sh.size()];
            long count = 1;
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = sh.get(i);
                if (!d.isIntegralNumber() || !d.canConvertToLong() || d.asLong() < 0) {
                    throw new BadInputException(where + ": invalid shape " + sh + " (dimensions must be non-negative integers)");
                }
                shape[i] = d.asLong();
                try {
                    count = Math.multiplyExact(count, shape[i]);
                } catch (ArithmeticException ex) {
                    throw new BadInputException(where + ": shape " + sh + " is too large");
                }
            }
            long expectedBytes;
            try {
                expectedBytes = Math.multiplyExact(count, dtype.byteSize());
            } catch (ArithmeticException ex) {
                throw new BadInputException(where + ": shape " + sh + " is too large");
            }
            JsonNode off = v.get("data_offsets");
            if (off == null || !off.isArray() || off.size() != 2
                    || !off.get(0).isIntegralNumber() || !off.get(1).isIntegralNumber()
                    || !off.get(0).canConvertToLong() || !off.get(1).canConvertToLong()) {
                throw new BadInputException(where + ": missing or invalid \"data_offsets\" (expected [begin, end])");
            }
            long begin = off.get(0).asLong();
            long end = off.get(1).asLong();
            if (begin < 0 || end < begin) {
                throw new BadInputException(where + ": invalid data_offsets [" + begin + ", " + end + "]");
            }
            if (end > dataSize) {
                throw new BadInputException(where + ": data_offsets [" + begin + ", " + end
                        + "] lie outside the data area of " + dataSize + " bytes (file truncated or header corrupt)");
            }
            if (end - begin != expectedBytes) {
                throw new BadInputException(where + ": data_offsets [" + begin + ", " + end + "] give " + (end - begin)
                        + " bytes but dtype " + dtype + " with shape " + sh + " needs " + expectedBytes + " bytes");
            }
            ranges.add(new long[]{begin, end, tensors.size()});
            tensors.add(new TensorInfo(name, dtype, shape, dataArea.asSlice(begin, end - begin), file));
        }
        ranges.sort(Comparator.<long[]>comparingLong(r -> r[0]).thenComparingLong(r -> r[1]));
        long[] prev = null;
        for (long[] r : ranges) {
            if (r[1] == r[0]) {
                continue; // empty tensors occupy no bytes
            }
            if (prev != null && r[0] < prev[1]) {
                throw new BadInputException("safetensors file " + file + " is corrupt: tensor "
                        + tensors.get((int) r[2]).name() + " (bytes " + r[0] + ".." + r[1] + ") overlaps tensor "
                        + tensors.get((int) prev[2]).name() + " (bytes " + prev[0] + ".." + prev[1] + ")");
            }
            prev = r;
        }
        return new SafeTensorsFile(file, arena, ownsArena, seg, n, metadata, tensors);
    }

    private static String preview(byte[] header) {
        String s = new String(header, 0, Math.min(header.length, 60), StandardCharsets.UTF_8);
        return "\"" + s.replaceAll("[\\p{Cntrl}]", "?") + (header.length > 60 ? "..." : "") + "\"";
    }

    /** The file this was read from. */
    public Path path() {
        return path;
    }

    /** The {@code __metadata__} map (empty if none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** All tensors, in header order. */
    public List<TensorInfo> tensors() {
        return tensors;
    }

    /** The tensor called {@code name}; a {@link BadInputException} naming file and tensor if it is missing. */
    public TensorInfo tensor(String name) {
        TensorInfo t = byName.get(name);
        if (t == null) {
            throw new BadInputException("tensor " + name + " missing in " + path);
        }
        return t;
    }

    /** The tensor called {@code name}, if present. */
    public Optional<TensorInfo> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** Whole mapped file (header included). */
    public MemorySegment segment() {
        return mapped;
    }

    /** Length of the JSON header in bytes (without the 8-byte length field). */
    public long headerLength() {
        return headerLength;
    }

    /** The arena the file is mapped in. */
    public Arena arena() {
        return arena;
    }

    /** Unmaps the file if this object owns its arena; afterwards its tensors' data must not be touched. */
    @Override
    public void close() {
        if (ownsArena && arena.scope().isAlive()) {
            arena.close();
        }
    }
}

package dev.rudder.runtime.io.gguf;

import dev.rudder.runtime.BadInputException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The GGUF reader (versions 2 and 3, little-endian) for models and llama.cpp control vectors alike.
 *
 * <p>Layout read: magic {@code "GGUF"}, uint32 version, uint64 tensor count, uint64 metadata count; the metadata
 * pairs (GGUF string key = uint64 length + UTF-8 bytes, uint32 value type, value; arrays = uint32 element type,
 * uint64 count, elements); the tensor infos (name, uint32 n_dims, uint64 dims[n_dims] innermost first, uint32 ggml
 * type, uint64 offset relative to the data section); padding to the alignment ({@code general.alignment}, default
 * 32); the data section. Every length and offset is checked against the file size, so a truncated or lying file
 * gives a {@link BadInputException} naming the file, never an out-of-bounds error. Every tensor's byte size follows
 * from its ggml type ({@link GgmlType}) and shape; tensors must lie inside the data section and must not overlap.
 *
 * <p>The file is memory-mapped; tensor data ({@link GgufTensor#data()}, slices of the mapping, no copies) stays valid
 * until {@link #close()}.
 */
public final class GgufFile implements AutoCloseable {

    /** {@code "GGUF"} read as a little-endian uint32. */
    public static final int MAGIC = 0x46554747;
    /** The alignment used when {@code general.alignment} is absent. */
    public static final int DEFAULT_ALIGNMENT = 32;

    private static final int MAX_DIMS = 4;
    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final Arena arena;
    private final MemorySegment seg;
    private final int version;
    private final int alignment;
    private final Map<String, GgufValue> metadata;
    private final Map<String, GgufTensor> tensors;
    private final long dataStart;
    private long pos;

    private GgufFile(Path file, Arena arena, MemorySegment seg) {
        this.file = file;
        this.arena = arena;
        this.seg = seg;
        if (seg.byteSize() < 24) {
            throw bad("is too short to be a GGUF file (" + seg.byteSize() + " bytes)");
        }
        if (seg.get(I32, 0) != MAGIC) {
            throw bad("is not a GGUF file (no GGUF magic)");
        }
        int v = seg.get(I32, 4);
        if ((v & 0xFFFF) == 0 && v != 0) {
            throw bad("is a big-endian GGUF file; only little-endian GGUF is supported");
        }
        if (v != 2 && v != 3) {
            throw bad("has GGUF version " + Integer.toUnsignedString(v) + "; versions 2 and 3 are supported");
        }
        this.version = v;
        pos = 8;
        long nTensors = u64("tensor count");
        long nKv = u64("metadata count");
        if (nTensors < 0 || nTensors > remaining() / 24) {
            throw bad("claims " + Long.toUnsignedString(nTensors) + " tensors, more than the file can hold");
        }
        if (nKv < 0 || nKv > remaining() / 12) {
            throw bad("claims " + Long.toUnsignedString(nKv) + " metadata entries, more than the file can hold");
        }
        Map<String, GgufValue> kv = new LinkedHashMap<>();
        for (long i = 0; i < nKv; i++) {
            String key = string("metadata key #" + i);
            int typeId = i32("type of metadata " + key);
            GgufValueType type = GgufValueType.byId(typeId);
            if (type == null) {
                throw bad("metadata " + key + " has unknown value type " + typeId);
            }
            GgufValue value = value(type, key);
            if (kv.putIfAbsent(key, value) != null) {
                throw bad("has the metadata key " + key + " twice");
            }
        }
        this.metadata = Collections.unmodifiableMap(kv);
        GgufValue al = kv.get("general.alignment");
        int alignment = DEFAULT_ALIGNMENT;
        if (al != null) {
            Long a = al.asLong();
            if (a == null || a <= 0 || a > (1 << 30) || Long.bitCount(a) != 1) {
                throw bad("has an invalid general.alignment " + al.asText() + " (must be a power of two)");
            }
            alignment = (int) (long) a;
        }
        this.alignment = alignment;
        Map<String, GgufTensor> ts = new LinkedHashMap<>();
        for (long i = 0; i < nTensors; i++) {
            String name = string("tensor name #" + i);
            int nDims = i32("dimension count of tensor " + name);
            if (nDims < 0 || nDims > MAX_DIMS) {
                throw bad("tensor " + name + " has " + Integer.toUnsignedString(nDims) + " dimensions (at most "
                        + MAX_DIMS + ")");
            }
            long[] dims = new long[nDims];
            for (int d = 0; d < nDims; d++) {
                dims[d] = u64("dimension " + d + " of tensor " + name);
                if (dims[d] < 0 || dims[d] > (1L << 40)) {
                    throw bad("tensor " + name + " has an invalid dimension " + Long.toUnsignedString(dims[d]));
                }
            }
            long elements = 1;
            for (long d : dims) {
                if (d != 0 && elements > Long.MAX_VALUE / 8 / d) {
                    throw bad("tensor " + name + " has an impossible shape " + java.util.Arrays.toString(dims));
                }
                elements *= d;
            }
            int typeId = i32("type of tensor " + name);
            GgmlType type = GgmlType.byId(typeId);
            if (type == null) {
                throw bad("tensor " + name + " has unknown ggml type " + Integer.toUnsignedString(typeId));
            }
            long offset = u64("offset of tensor " + name);
            long size = byteSize(name, dims, elements, type);
            if (ts.putIfAbsent(name, new GgufTensor(name, dims, type, offset, size, null)) != null) {
                throw bad("has the tensor " + name + " twice");
            }
        }
        long start = align(pos, alignment);
        if (nTensors > 0 && start > seg.byteSize()) {
            throw bad("is truncated: its data section would start at byte " + start + " but the file has "
                    + seg.byteSize() + " bytes");
        }
        this.dataStart = start;
        long dataBytes = seg.byteSize() - start;
        for (Map.Entry<String, GgufTensor> e : ts.entrySet()) {
            GgufTensor t = e.getValue();
            if (t.offset() < 0 || t.offset() % alignment != 0) {
                throw bad("tensor " + t.name() + " has offset " + Long.toUnsignedString(t.offset())
                        + ", not a multiple of the alignment " + alignment);
            }
            if (t.offset() > dataBytes || t.byteSize() > dataBytes - t.offset()) {
                throw bad("is truncated: tensor " + t.name() + " (" + t.type() + " " + java.util.Arrays.toString(t.dims())
                        + ") needs bytes " + (start + t.offset()) + ".." + (start + t.offset() + t.byteSize())
                        + " but the file has " + seg.byteSize());
            }
            e.setValue(t.withData(seg.asSlice(start + t.offset(), t.byteSize()).asReadOnly()));
        }
        checkNoOverlap(ts.values());
        this.tensors = Collections.unmodifiableMap(ts);
    }

    private void checkNoOverlap(Collection<GgufTensor> ts) {
        List<GgufTensor> byOffset = new ArrayList<>(ts);
        byOffset.sort(Comparator.comparingLong(GgufTensor::offset));
        for (int i = 1; i < byOffset.size(); i++) {
            GgufTensor a = byOffset.get(i - 1);
            GgufTensor b = byOffset.get(i);
            if (a.byteSize() > 0 && b.offset() < a.offset() + a.byteSize()) {
                throw bad("has overlapping tensors: " + b.name() + " at offset " + b.offset() + " lies inside "
                        + a.name() + " (offset " + a.offset() + ", " + a.byteSize() + " bytes)");
            }
        }
    }

    /** Bytes of a tensor: whole blocks along the innermost dimension, times the other dimensions. */
    private long byteSize(String name, long[] dims, long elements, GgmlType type) {
        long inner = dims.length == 0 ? 1 : dims[0];
        long rowBytes = type.rowBytes(inner);
        if (rowBytes < 0) {
            throw bad("tensor " + name + " of type " + type + " has " + inner + " columns, not a multiple of its block size "
                    + type.blockSize());
        }
        long rows = inner == 0 ? 0 : elements / inner;
        if (rows != 0 && rowBytes > Long.MAX_VALUE / rows) {
            throw bad("tensor " + name + " has an impossible shape " + java.util.Arrays.toString(dims));
        }
        return rowBytes * rows;
    }

    /**
     * Opens and parses a GGUF file.
     *
     * @throws BadInputException when the file is not valid GGUF (message names the file)
     * @throws UncheckedIOException on I/O errors; {@link NoSuchFileException} (wrapped) when it is missing
     */
    public static GgufFile open(Path file) {
        return open(file, Arena.ofShared());
    }

    /** Opens a GGUF file mapped into {@code arena}, which {@link #close()} then closes. */
    public static GgufFile open(Path file, Arena arena) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment seg = ch.size() == 0 ? MemorySegment.ofArray(new byte[0])
                    : ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            try {
                return new GgufFile(file, arena, seg);
            } catch (RuntimeException e) {
                arena.close();
                throw e;
            }
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException(e);
        }
    }

    /** True when {@code file} starts with the GGUF magic. */
    public static boolean hasMagic(Path file) throws IOException {
        try (var in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes(4);
            return b.length == 4 && b[0] == 'G' && b[1] == 'G' && b[2] == 'U' && b[3] == 'F';
        }
    }

    public Path file() {
        return file;
    }

    /** The arena the file is mapped into. */
    public Arena arena() {
        return arena;
    }

    public int version() {
        return version;
    }

    public int alignment() {
        return alignment;
    }

    /** Byte offset of the data section in the file. */
    public long dataStart() {
        return dataStart;
    }

    /** All metadata, in file order. */
    public Map<String, GgufValue> metadata() {
        return metadata;
    }

    /** One metadata value, or null. */
    public GgufValue get(String key) {
        return metadata.get(key);
    }

    /** The tensors, in file order. */
    public List<GgufTensor> tensors() {
        return new ArrayList<>(tensors.values());
    }

    /** One tensor's info, or null. */
    public GgufTensor tensor(String name) {
        return tensors.get(name);
    }

    /**
     * Widens a tensor of any weight type ({@link GgmlType#isWeightType()}) to a new float array; quantized blocks are
     * dequantized exactly as ggml does.
     *
     * @throws BadInputException for other types or tensors too large for one array
     */
    public float[] readFloats(GgufTensor t) {
        long n = t.elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw bad("tensor " + t.name() + " is too large to read into one array (" + n + " elements)");
        }
        if (!t.type().isWeightType()) {
            throw bad("tensor " + t.name() + " has type " + t.type() + ", which cannot be read as floats (supported: "
                    + GgmlType.weightTypeNames() + ")");
        }
        float[] out = new float[(int) n];
        Dequantize.toFloats(t.type(), t.data(), 0, out, 0, (int) n);
        return out;
    }

    /** Metadata as plain Java values (String, Long, Double, Boolean, List) for modules that do not know GGUF types. */
    public Map<String, Object> plainMetadata() {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            m.put(e.getKey(), e.getValue().plain());
        }
        return m;
    }

    /** A required string value; the error names file and key. */
    public String requireString(String key) {
        GgufValue v = metadata.get(key);
        if (v == null) {
            throw bad("has no metadata " + key);
        }
        if (v.type() != GgufValueType.STRING) {
            throw bad("metadata " + key + " is " + v.type() + ", expected a string");
        }
        return (String) v.value();
    }

    /** An optional non-negative integer value ({@code dflt} when absent); the error names file and key. */
    public long integer(String key, long dflt) {
        GgufValue v = metadata.get(key);
        if (v == null) {
            return dflt;
        }
        Long x = v.asLong();
        if (x == null || x < 0) {
            throw bad("metadata " + key + " is " + v.asText() + " (" + v.type() + "), expected a non-negative integer");
        }
        return x;
    }

    /** An optional number ({@code dflt} when absent); the error names file and key. */
    public double number(String key, double dflt) {
        GgufValue v = metadata.get(key);
        if (v == null) {
            return dflt;
        }
        Double x = v.asDouble();
        if (x == null || x.isNaN() || x.isInfinite()) {
            throw bad("metadata " + key + " is " + v.asText() + " (" + v.type() + "), expected a number");
        }
        return x;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }

    /** {@code x} rounded up to a multiple of {@code alignment}. */
    public static long align(long x, int alignment) {
        return (x + alignment - 1) / alignment * alignment;
    }

    /** An error about this file: "GGUF file PATH " + what. */
    public BadInputException bad(String what) {
        return new BadInputException("GGUF file " + file + " " + what);
    }

    private long remaining() {
        return seg.byteSize() - pos;
    }

    private void need(long n, String what) {
        if (n < 0 || n > remaining()) {
            throw bad("is truncated while reading " + what + " at byte " + pos);
        }
    }

    private int i32(String what) {
        need(4, what);
        int v = seg.get(I32, pos);
        pos += 4;
        return v;
    }

    private long u64(String what) {
        need(8, what);
        long v = seg.get(I64, pos);
        pos += 8;
        return v;
    }

    private String string(String what) {
        long len = u64("length of " + what);
        need(len, what);
        String v = utf8(pos, (int) len);
        if (v == null) {
            throw bad("has invalid UTF-8 in " + what);
        }
        pos += len;
        return v;
    }

    /**
     * The {@code len} bytes at {@code at} as text, or null when they are not valid UTF-8. The lenient JDK decoder
     * is fast (vocabulary entries are mostly ASCII); only a result holding U+FFFD, which marks a malformed sequence
     * or is in the text itself, is checked again with the strict one.
     */
    private String utf8(long at, int len) {
        byte[] b = new byte[len];
        MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, at, b, 0, len);
        String s = new String(b, StandardCharsets.UTF_8);
        if (s.indexOf('\uFFFD') >= 0) {
            try {
                return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(b)).toString();
            } catch (CharacterCodingException e) {
                return null;
            }
        }
        return s;
    }

    private GgufValue value(GgufValueType type, String key) {
        String what = "metadata " + key;
        return switch (type) {
            case UINT8 -> {
                need(1, what);
                yield new GgufValue(type, (long) (seg.get(ValueLayout.JAVA_BYTE, pos++) & 0xFF), null);
            }
            case INT8 -> {
                need(1, what);
                yield new GgufValue(type, (long) seg.get(ValueLayout.JAVA_BYTE, pos++), null);
            }
            case BOOL -> {
                need(1, what);
                byte b = seg.get(ValueLayout.JAVA_BYTE, pos++);
                if (b != 0 && b != 1) {
                    throw bad("has an invalid boolean " + b + " in " + what);
                }
                yield new GgufValue(type, b == 1, null);
            }
            case UINT16, INT16 -> {
                need(2, what);
                short s = seg.get(I16, pos);
                pos += 2;
                yield new GgufValue(type, type == GgufValueType.UINT16 ? (long) (s & 0xFFFF) : (long) s, null);
            }
            case UINT32 -> new GgufValue(type, i32(what) & 0xFFFFFFFFL, null);
            case INT32 -> new GgufValue(type, (long) i32(what), null);
            case UINT64, INT64 -> new GgufValue(type, u64(what), null);
            case FLOAT32 -> {
                need(4, what);
                float f = seg.get(F32, pos);
                pos += 4;
                yield new GgufValue(type, f, null);
            }
            case FLOAT64 -> {
                need(8, what);
                double d = seg.get(F64, pos);
                pos += 8;
                yield new GgufValue(type, d, null);
            }
            case STRING -> new GgufValue(type, string(what), null);
            case ARRAY -> array(key);
        };
    }

    /**
     * An array value after its type id: element type, count, elements, read straight into one Java array
     * ({@link GgufArray}). Error texts name the element but are built only on failure: a vocabulary has
     * 32k-256k elements per array.
     */
    private GgufValue array(String key) {
        String what = "metadata " + key;
        int et = i32("element type of " + what);
        GgufValueType elem = GgufValueType.byId(et);
        if (elem == null || elem == GgufValueType.ARRAY) {
            throw bad("metadata " + key + " is an array of unsupported element type " + et);
        }
        long n = u64("length of " + what);
        if (n < 0 || n > remaining() / elem.minBytes() || n > Integer.MAX_VALUE - 8) {
            throw bad("is truncated: array " + key + " claims " + Long.toUnsignedString(n) + " elements");
        }
        int count = (int) n;
        Object items = switch (elem) {
            case STRING -> {
                String[] a = new String[count];   // [count]
                for (int i = 0; i < count; i++) {
                    a[i] = element(key, i);
                }
                yield a;
            }
            case FLOAT32 -> {
                float[] a = new float[count];   // [count]
                MemorySegment.copy(seg, F32, pos, a, 0, count);
                pos += 4L * count;
                yield a;
            }
            case FLOAT64 -> {
                need(8L * count, what);
                double[] a = new double[count];   // [count]
                MemorySegment.copy(seg, F64, pos, a, 0, count);
                pos += 8L * count;
                yield a;
            }
            case BOOL -> {
                boolean[] a = new boolean[count];   // [count]
                for (int i = 0; i < count; i++) {
                    byte b = seg.get(ValueLayout.JAVA_BYTE, pos++);
                    if (b != 0 && b != 1) {
                        throw bad("has an invalid boolean " + b + " in " + what + "[" + i + "]");
                    }
                    a[i] = b == 1;
                }
                yield a;
            }
            default -> integers(elem, count, what);
        };
        return new GgufValue(GgufValueType.ARRAY, new GgufArray(elem, items), elem);
    }

    /** {@code count} integers of type {@code t} at the position, in an array of their width ({@link GgufArray}). */
    private Object integers(GgufValueType t, int count, String what) {
        long bytes = (long) t.minBytes() * count;
        need(bytes, what);
        Object a = switch (t) {
            case UINT8, INT8 -> new byte[count];     // [count]
            case UINT16, INT16 -> new short[count];  // [count]
            case UINT32, INT32 -> new int[count];    // [count]
            case UINT64, INT64 -> new long[count];   // [count]
            default -> throw new IllegalArgumentException(t + " is not an integer type");
        };
        ValueLayout layout = switch (t) {             // little-endian in the file
            case UINT8, INT8 -> ValueLayout.JAVA_BYTE;
            case UINT16, INT16 -> I16;
            case UINT32, INT32 -> I32;
            default -> I64;
        };
        MemorySegment.copy(seg, layout, pos, a, 0, count);
        pos += bytes;
        return a;
    }

    /** String element {@code i} of array {@code key}. */
    private String element(String key, int i) {
        if (remaining() < 8) {
            throw bad("is truncated while reading the length of metadata " + key + "[" + i + "] at byte " + pos);
        }
        long len = seg.get(I64, pos);
        if (len < 0 || len > remaining() - 8) {
            throw bad("is truncated while reading metadata " + key + "[" + i + "] at byte " + (pos + 8));
        }
        String v = utf8(pos + 8, (int) len);
        if (v == null) {
            throw bad("has invalid UTF-8 in metadata " + key + "[" + i + "]");
        }
        pos += 8 + len;
        return v;
    }
}

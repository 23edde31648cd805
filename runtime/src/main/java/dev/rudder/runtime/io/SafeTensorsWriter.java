package dev.rudder.runtime.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Writes safetensors files: 8-byte little-endian header length, the JSON header (tensors in the order added,
 * {@code __metadata__} first) padded with spaces to a multiple of 8 bytes, then each tensor's bytes.
 *
 * <p>In-memory use: {@code new SafeTensorsWriter(meta).add("direction.3", floats, 576).write(path)}.
 * For outputs too big for memory use {@link #stream}, which writes the header first and then asks a
 * {@link TensorSource} for each tensor's bytes in order. Both write to a temporary file next to the
 * target and move it into place, so a reader never sees a half-written file.
 */
public final class SafeTensorsWriter {

    /** Name, dtype and shape of one tensor to be written. */
    public record TensorSpec(String name, DType dtype, long[] shape) {
        public TensorSpec {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(dtype, "dtype");
            shape = shape.clone();
            for (long d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape) + " of " + name);
                }
            }
        }

        public long elementCount() {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return n;
        }

        public long byteSize() {
            return Math.multiplyExact(elementCount(), dtype.byteSize());
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TensorSpec t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape);
        }

        @Override
        public int hashCode() {
            return name.hashCode() * 31 + Arrays.hashCode(shape);
        }

        @Override
        public String toString() {
            return name + " " + dtype + " " + Arrays.toString(shape);
        }
    }

    /** Produces the bytes of each tensor, in order, when streaming. */
    @FunctionalInterface
    public interface TensorSource {
        /** Writes exactly {@code spec.byteSize()} bytes of tensor number {@code index} to {@code sink}. */
        void write(int index, TensorSpec spec, TensorSink sink) throws IOException;
    }

    /** Where a {@link TensorSource} writes one tensor's bytes (little-endian). */
    public interface TensorSink {
        /** Raw bytes (already in the tensor's dtype, little-endian). */
        void write(ByteBuffer bytes) throws IOException;

        /** Raw bytes (already in the tensor's dtype, little-endian). */
        void write(MemorySegment bytes) throws IOException;

        /** Float values converted to the tensor's dtype (F32, F16 or BF16; round to nearest even). */
        void writeFloats(float[] values, int offset, int length) throws IOException;

        default void writeFloats(float[] values) throws IOException {
            writeFloats(values, 0, values.length);
        }
    }

    private record Entry(TensorSpec spec, MemorySegment bytes) {
    }

    private final Map<String, String> metadata;
    private final List<Entry> entries = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    /** {@code metadata} becomes {@code __metadata__} (may be null or empty). */
    public SafeTensorsWriter(Map<String, String> metadata) {
        this.metadata = metadata == null ? Map.of() : new LinkedHashMap<>(metadata);
    }

    public SafeTensorsWriter() {
        this(null);
    }

    /** Adds an F32 tensor; without {@code shape} it is 1-D of {@code data.length}. The array is copied. */
    public SafeTensorsWriter add(String name, float[] data, long... shape) {
        long[] sh = shape == null || shape.length == 0 ? new long[]{data.length} : shape;
        TensorSpec spec = new TensorSpec(name, DType.F32, sh);
        if (spec.elementCount() != data.length) {
            throw new IllegalArgumentException("tensor " + name + ": " + data.length + " values do not fit shape "
                    + Arrays.toString(sh));
        }
        MemorySegment seg = MemorySegment.ofArray(new byte[Math.toIntExact(spec.byteSize())]);
        MemorySegment.copy(data, 0, seg, SafeTensorsFile.F32_LE, 0, data.length);
        return add(spec, seg);
    }

    /** Adds float values stored as {@code dtype} (F32, F16 or BF16; round to nearest even). */
    public SafeTensorsWriter addFloats(String name, DType dtype, float[] data, long... shape) {
        long[] sh = shape == null || shape.length == 0 ? new long[]{data.length} : shape;
        TensorSpec spec = new TensorSpec(name, dtype, sh);
        if (spec.elementCount() != data.length) {
            throw new IllegalArgumentException("tensor " + name + ": " + data.length + " values do not fit shape "
                    + Arrays.toString(sh));
        }
        ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(spec.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        encodeFloats(dtype, data, 0, data.length, buf);
        buf.flip();
        return add(spec, MemorySegment.ofBuffer(buf));
    }

    /** Adds raw bytes of {@code dtype} (little-endian); their size must be {@code dtype.byteSize() * prod(shape)}. Not copied. */
    public SafeTensorsWriter add(String name, DType dtype, MemorySegment bytes, long... shape) {
        TensorSpec spec = new TensorSpec(name, dtype, shape == null ? new long[0] : shape);
        if (bytes.byteSize() != spec.byteSize()) {
            throw new IllegalArgumentException("tensor " + name + ": " + bytes.byteSize() + " bytes, but " + dtype
                    + " with shape " + Arrays.toString(spec.shape()) + " needs " + spec.byteSize());
        }
        return add(spec, bytes);
    }

    /** Adds (a copy-free view of) a tensor read from another file. */
    public SafeTensorsWriter add(TensorInfo t) {
        return add(t.name(), t.dtype(), t.data(), t.shape());
    }

    private SafeTensorsWriter add(TensorSpec spec, MemorySegment bytes) {
        if (spec.name().equals("__metadata__")) {
            throw new IllegalArgumentException("__metadata__ is reserved and cannot be a tensor name");
        }
        if (!names.add(spec.name())) {
            throw new IllegalArgumentException("tensor " + spec.name() + " added twice");
        }
        entries.add(new Entry(spec, bytes));
        return this;
    }

    /** Writes the file (to a temporary file next to it, then moved into place). */
    public void write(Path file) throws IOException {
        List<TensorSpec> specs = entries.stream().map(Entry::spec).toList();
        stream(file, metadata, specs, (i, spec, sink) -> sink.write(entries.get(i).bytes()));
    }

    /**
     * Streams a safetensors file: the header for {@code specs} first, then each tensor's bytes from {@code src},
     * in order; only one tensor's bytes need to exist at a time. Written to a temporary file and moved into place.
     *
     * @throws IllegalStateException if {@code src} writes more or fewer bytes than a tensor needs
     */
    public static void stream(Path file, Map<String, String> metadata, List<TensorSpec> specs, TensorSource src)
            throws IOException {
        Set<String> seen = new HashSet<>();
        for (TensorSpec s : specs) {
            if (!seen.add(s.name()) || s.name().equals("__metadata__")) {
                throw new IllegalArgumentException("duplicate or reserved tensor name " + s.name());
            }
        }
        byte[] header = header(metadata, specs);
        OutputPaths.checkTarget(file);
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir != null) {
            try {
                Files.createDirectories(dir);
            } catch (IOException e) {
                throw OutputPaths.cannotWrite(file, e);
            }
        }
        Path tmp = OutputPaths.temporarySibling(abs);
        boolean ok = false;
        FileChannel opened;
        try {
            opened = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW);
        } catch (IOException e) {
            throw OutputPaths.cannotWrite(file, e);   // names the target, not the temporary file
        }
        try (FileChannel ch = opened) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
            writeFully(ch, len);
            writeFully(ch, ByteBuffer.wrap(header));
            for (int i = 0; i < specs.size(); i++) {
                TensorSpec spec = specs.get(i);
                CountingSink sink = new CountingSink(ch, spec);
                src.write(i, spec, sink);
                if (sink.written != spec.byteSize()) {
                    throw new IllegalStateException("tensor " + spec.name() + ": source wrote " + sink.written
                            + " bytes, expected " + spec.byteSize());
                }
            }
            ch.force(false);
            ok = true;
        } finally {
            if (!ok) {
                Files.deleteIfExists(tmp);
            }
        }
        try {
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw OutputPaths.cannotWrite(file, e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The header bytes (JSON padded with spaces to a multiple of 8) for these tensors, laid out in order. */
    static byte[] header(Map<String, String> metadata, List<TensorSpec> specs) {
        ObjectNode root = SafeTensorsFile.json().createObjectNode();
        if (metadata != null && !metadata.isEmpty()) {
            ObjectNode m = root.putObject("__metadata__");
            metadata.forEach(m::put);
        }
        long offset = 0;
        for (TensorSpec s : specs) {
            ObjectNode t = root.putObject(s.name());
            t.put("dtype", s.dtype().safetensorsName());
            ArrayNode shape = t.putArray("shape");
            for (long d : s.shape()) {
                shape.add(d);
            }
            long end = offset + s.byteSize();
            t.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = SafeTensorsFile.json().writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        int padded = (json.length + 7) & ~7;
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /**
     * float32 to bfloat16 bits, round to nearest even (NaN stays NaN, quiet), as PyTorch and ggml's
     * {@code ggml_compute_fp32_to_bf16} do: exact for a value that came from bf16.
     */
    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) ((bits >>> 16) | 0x0040); // quiet NaN
        }
        int rounding = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    /** Appends {@code values[offset..offset+length)} to {@code out} (little-endian) as {@code dtype}. */
    public static void encodeFloats(DType dtype, float[] values, int offset, int length, ByteBuffer out) {
        if (out.order() != ByteOrder.LITTLE_ENDIAN) {
            throw new IllegalArgumentException("buffer must be little-endian");
        }
        switch (dtype) {
            case F32 -> {
                for (int i = 0; i < length; i++) {
                    out.putFloat(values[offset + i]);
                }
            }
            case F16 -> {
                for (int i = 0; i < length; i++) {
                    out.putShort(Float.floatToFloat16(values[offset + i]));
                }
            }
            case BF16 -> {
                for (int i = 0; i < length; i++) {
                    out.putShort(floatToBf16(values[offset + i]));
                }
            }
            default -> throw new IllegalArgumentException("cannot store floats as " + dtype);
        }
    }

    private static final class CountingSink implements TensorSink {
        private final FileChannel ch;
        private final TensorSpec spec;
        private final long limit;
        long written;
        private ByteBuffer scratch;

        CountingSink(FileChannel ch, TensorSpec spec) {
            this.ch = ch;
            this.spec = spec;
            this.limit = spec.byteSize();
        }

        private void count(long n) {
            if (written + n > limit) {
                throw new IllegalStateException("tensor " + spec.name() + ": source wrote more than " + limit + " bytes");
            }
            written += n;
        }

        @Override
        public void write(ByteBuffer bytes) throws IOException {
            count(bytes.remaining());
            writeFully(ch, bytes);
        }

        @Override
        public void write(MemorySegment bytes) throws IOException {
            long n = bytes.byteSize();
            count(n);
            final long chunk = 1 << 20;
            for (long pos = 0; pos < n; pos += chunk) {
                long len = Math.min(chunk, n - pos);
                MemorySegment part = bytes.asSlice(pos, len);
                ByteBuffer bb;
                if (part.isNative() || part.isMapped()) {
                    bb = part.asByteBuffer();
                } else {
                    bb = ByteBuffer.wrap(part.toArray(ValueLayout.JAVA_BYTE));
                }
                writeFully(ch, bb);
            }
        }

        @Override
        public void writeFloats(float[] values, int offset, int length) throws IOException {
            int per = spec.dtype().byteSize();
            if (!spec.dtype().isFloat32Widenable()) {
                throw new IllegalArgumentException("tensor " + spec.name() + " is " + spec.dtype() + ", not a float type");
            }
            count((long) length * per);
            final int chunkElems = 1 << 18;
            if (scratch == null) {
                scratch = ByteBuffer.allocateDirect(chunkElems * 4).order(ByteOrder.LITTLE_ENDIAN);
            }
            for (int done = 0; done < length; done += chunkElems) {
                int len = Math.min(chunkElems, length - done);
                scratch.clear();
                encodeFloats(spec.dtype(), values, offset + done, len, scratch);
                scratch.flip();
                writeFully(ch, scratch);
            }
        }
    }
}

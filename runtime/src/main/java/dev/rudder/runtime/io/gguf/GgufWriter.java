package dev.rudder.runtime.io.gguf;

import java.io.ByteArrayOutputStream;
import dev.rudder.runtime.io.OutputPaths;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * Writes a GGUF version 3 file (little-endian) with metadata and tensors of any ggml type, laid out as llama.cpp's
 * {@code gguf_write_to_file} does: header, metadata pairs, tensor infos, zero padding to the alignment, then each
 * tensor's data padded with zeros to the alignment. The alignment is {@code general.alignment} when that key is set
 * (UINT32), else 32.
 *
 * <p>The file is written to a temporary sibling and moved into place, so a failed write leaves no partial file.
 */
public final class GgufWriter {

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Entry> tensors = new ArrayList<>();

    /** A tensor to write: its bytes come from {@code data} when the file is written (so large models stream). */
    private record Entry(String name, long[] dims, GgmlType type, long byteSize, Supplier<MemorySegment> data) {
    }

    /** Adds (or replaces) a metadata pair; pairs are written in the order first added. */
    public GgufWriter put(String key, GgufValue value) {
        if (key.isEmpty()) {
            throw new IllegalArgumentException("empty GGUF key");
        }
        metadata.put(key, value);
        return this;
    }

    /**
     * Adds an F32 tensor. {@code ggufDims} are in GGUF order (innermost first); their product must be
     * {@code values.length}. The array is not copied: do not change it before {@link #write}.
     */
    public GgufWriter addF32(String name, float[] values, long... ggufDims) {
        long n = 1;
        for (long d : ggufDims) {
            n *= d;
        }
        if (ggufDims.length == 0 || ggufDims.length > 4 || n != values.length) {
            throw new IllegalArgumentException("tensor " + name + ": dims " + java.util.Arrays.toString(ggufDims)
                    + " do not match " + values.length + " values");
        }
        return add(name, GgmlType.F32, () -> MemorySegment.ofArray(values), ggufDims);
    }

    /**
     * Adds a tensor of {@code type} whose bytes {@code data} supplies when the file is written (exactly the size the
     * type and {@code ggufDims}, innermost first, require; checked then).
     */
    public GgufWriter add(String name, GgmlType type, Supplier<MemorySegment> data, long... ggufDims) {
        if (ggufDims.length == 0 || ggufDims.length > 4) {
            throw new IllegalArgumentException("tensor " + name + ": " + ggufDims.length + " dimensions");
        }
        long rowBytes = type.rowBytes(ggufDims[0]);
        if (rowBytes < 0) {
            throw new IllegalArgumentException("tensor " + name + ": row length " + ggufDims[0]
                    + " is not a multiple of the " + type + " block size " + type.blockSize());
        }
        long size = rowBytes;
        for (int i = 1; i < ggufDims.length; i++) {
            size = Math.multiplyExact(size, ggufDims[i]);
        }
        for (Entry e : tensors) {
            if (e.name().equals(name)) {
                throw new IllegalArgumentException("tensor " + name + " added twice");
            }
        }
        tensors.add(new Entry(name, ggufDims.clone(), type, size, data));
        return this;
    }

    /** The complete file as bytes. */
    public byte[] toBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            writeTo(out, null);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return out.toByteArray();
    }

    /** Writes the file (atomically replacing {@code file}). */
    public void write(Path file) throws IOException {
        write(file, null);
    }

    /** Bytes of tensor data the file will hold (without alignment padding). */
    public long tensorBytes() {
        long n = 0;
        for (Entry t : tensors) {
            n += t.byteSize();
        }
        return n;
    }

    /**
     * Writes the file (atomically replacing {@code file}); after each tensor, {@code written} (if not null) gets the
     * tensor bytes written so far, out of {@link #tensorBytes()}.
     */
    public void write(Path file, LongConsumer written) throws IOException {
        OutputPaths.checkTarget(file);
        Path abs = file.toAbsolutePath();
        Path tmp = OutputPaths.temporarySibling(abs);
        OutputStream opened;
        try {
            opened = Files.newOutputStream(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW);
        } catch (IOException e) {
            throw OutputPaths.cannotWrite(file, e);   // names the target, not the temporary file
        }
        try {
            try (OutputStream out = new java.io.BufferedOutputStream(opened, 1 << 16)) {
                writeTo(out, written);
            }
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw OutputPaths.cannotWrite(file, e);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private int alignment() {
        GgufValue a = metadata.get("general.alignment");
        if (a == null) {
            return GgufFile.DEFAULT_ALIGNMENT;
        }
        Long v = a.asLong();
        if (a.type() != GgufValueType.UINT32 || v == null || v <= 0 || Long.bitCount(v) != 1) {
            throw new IllegalArgumentException("general.alignment must be a UINT32 power of two, got " + a);
        }
        return (int) (long) v;
    }

    private void writeTo(OutputStream out, LongConsumer written) throws IOException {
        int alignment = alignment();
        Buf h = new Buf();
        h.i32(GgufFile.MAGIC);
        h.i32(3);
        h.i64(tensors.size());
        h.i64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            h.str(e.getKey());
            h.i32(e.getValue().type().id());
            value(h, e.getValue());
        }
        long offset = 0;
        for (Entry t : tensors) {
            h.str(t.name());
            h.i32(t.dims().length);
            for (long x : t.dims()) {
                h.i64(x);
            }
            h.i32(t.type().id());
            h.i64(offset);
            offset = GgufFile.align(offset + t.byteSize(), alignment);
        }
        long headerLen = h.size();
        h.zeros(GgufFile.align(headerLen, alignment) - headerLen);
        out.write(h.bytes(), 0, h.size());
        byte[] chunk = new byte[1 << 16];
        long tensorBytes = 0;
        for (Entry t : tensors) {
            MemorySegment seg = t.data().get();
            if (seg.byteSize() != t.byteSize()) {
                throw new IllegalArgumentException("tensor " + t.name() + ": " + seg.byteSize() + " bytes, but "
                        + t.type() + " " + java.util.Arrays.toString(t.dims()) + " needs " + t.byteSize());
            }
            for (long done = 0; done < seg.byteSize(); done += chunk.length) {
                int len = (int) Math.min(chunk.length, seg.byteSize() - done);
                // a float[] segment copies in native order: little-endian on every platform Java 25 runs Rudder on
                MemorySegment.copy(seg, ValueLayout.JAVA_BYTE, done, chunk, 0, len);
                out.write(chunk, 0, len);
            }
            out.write(new byte[(int) (GgufFile.align(t.byteSize(), alignment) - t.byteSize())]);
            tensorBytes += t.byteSize();
            if (written != null) {
                written.accept(tensorBytes);
            }
        }
    }

    private static void value(Buf h, GgufValue v) {
        switch (v.type()) {
            case UINT8, INT8 -> h.i8((byte) (long) (Long) v.value());
            case BOOL -> h.i8((byte) ((Boolean) v.value() ? 1 : 0));
            case UINT16, INT16 -> h.i16((short) (long) (Long) v.value());
            case UINT32, INT32 -> h.i32((int) (long) (Long) v.value());
            case UINT64, INT64 -> h.i64((Long) v.value());
            case FLOAT32 -> h.i32(Float.floatToRawIntBits((Float) v.value()));
            case FLOAT64 -> h.i64(Double.doubleToRawLongBits((Double) v.value()));
            case STRING -> h.str((String) v.value());
            case ARRAY -> {
                List<?> items = (List<?>) v.value();
                h.i32(v.elementType().id());
                h.i64(items.size());
                for (Object o : items) {
                    GgufValue e = (GgufValue) o;
                    if (e.type() != v.elementType()) {
                        throw new IllegalArgumentException("array element " + e + " is not of type "
                                + v.elementType());
                    }
                    value(h, e);
                }
            }
        }
    }

    /** A little-endian byte buffer that grows. */
    private static final class Buf extends ByteArrayOutputStream {
        void i8(byte b) {
            write(b);
        }

        void i16(short s) {
            write(s & 0xFF);
            write((s >>> 8) & 0xFF);
        }

        void i32(int x) {
            for (int i = 0; i < 4; i++) {
                write((x >>> (8 * i)) & 0xFF);
            }
        }

        void i64(long x) {
            for (int i = 0; i < 8; i++) {
                write((int) (x >>> (8 * i)) & 0xFF);
            }
        }

        void str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            i64(b.length);
            write(b, 0, b.length);
        }

        void zeros(long n) {
            for (long i = 0; i < n; i++) {
                write(0);
            }
        }

        byte[] bytes() {
            return buf;
        }
    }
}

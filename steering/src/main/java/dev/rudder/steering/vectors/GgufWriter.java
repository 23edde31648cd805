package dev.rudder.steering.vectors;

import java.io.ByteArrayOutputStream;
import dev.rudder.runtime.io.OutputPaths;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a GGUF version 3 file (little-endian) with metadata and F32 tensors, laid out as llama.cpp's
 * {@code gguf_write_to_file} does: header, metadata pairs, tensor infos, zero padding to the alignment, then each
 * tensor's data padded with zeros to the alignment. The alignment is {@code general.alignment} when that key is set
 * (UINT32), else 32.
 *
 * <p>The file is written to a temporary sibling and moved into place, so a failed write leaves no partial file.
 */
public final class GgufWriter {

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<String> names = new ArrayList<>();
    private final List<long[]> dims = new ArrayList<>();
    private final List<float[]> data = new ArrayList<>();

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
        if (names.contains(name)) {
            throw new IllegalArgumentException("tensor " + name + " added twice");
        }
        names.add(name);
        dims.add(ggufDims.clone());
        data.add(values);
        return this;
    }

    /** The complete file as bytes. */
    public byte[] toBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            writeTo(out);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return out.toByteArray();
    }

    /** Writes the file (atomically replacing {@code file}). */
    public void write(Path file) throws IOException {
        OutputPaths.checkTarget(file);
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp;
        try {
            tmp = Files.createTempFile(dir, "." + abs.getFileName(), ".tmp");
        } catch (IOException e) {
            throw OutputPaths.cannotWrite(file, e);   // names the target, not the temporary file
        }
        try {
            try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
                writeTo(out);
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

    private void writeTo(OutputStream out) throws IOException {
        int alignment = alignment();
        Buf h = new Buf();
        h.i32(GgufFile.MAGIC);
        h.i32(3);
        h.i64(names.size());
        h.i64(metadata.size());
        for (Map.Entry<String, GgufValue> e : metadata.entrySet()) {
            h.str(e.getKey());
            h.i32(e.getValue().type().id());
            value(h, e.getValue());
        }
        long offset = 0;
        for (int i = 0; i < names.size(); i++) {
            h.str(names.get(i));
            long[] d = dims.get(i);
            h.i32(d.length);
            for (long x : d) {
                h.i64(x);
            }
            h.i32(GgufFile.GGML_TYPE_F32);
            h.i64(offset);
            offset = GgufFile.align(offset + 4L * data.get(i).length, alignment);
        }
        long headerLen = h.size();
        h.zeros(GgufFile.align(headerLen, alignment) - headerLen);
        out.write(h.bytes(), 0, h.size());
        for (float[] t : data) {
            ByteBuffer bb = ByteBuffer.allocate(4 * t.length).order(ByteOrder.LITTLE_ENDIAN);
            bb.asFloatBuffer().put(t);
            out.write(bb.array());
            long len = 4L * t.length;
            out.write(new byte[(int) (GgufFile.align(len, alignment) - len)]);
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

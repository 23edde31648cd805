package dev.rudder.runtime.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.tensor.QuantizedMatrices;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * All weights of one model folder, memory-mapped in one shared {@link Arena} that {@link #close()} closes.
 *
 * <p>Layouts, in order of preference: {@code model.safetensors.index.json} (sharded, its
 * {@code weight_map} names the shard of every tensor), {@code model.safetensors}, or otherwise every
 * {@code *.safetensors} file in the folder (sorted by name).
 */
public final class TensorStore implements AutoCloseable {

    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final Path dir;
    private final Arena arena;
    private final List<SafeTensorsFile> files;
    private final Map<String, TensorInfo> byName;
    private final List<TensorInfo> all;
    private boolean qkPairs;
    private Function<String, String> fileNames = Function.identity();

    private TensorStore(Path dir, Arena arena, List<SafeTensorsFile> files, Map<String, TensorInfo> byName) {
        this.dir = dir;
        this.arena = arena;
        this.files = List.copyOf(files);
        this.byName = Collections.unmodifiableMap(byName);
        this.all = List.copyOf(byName.values());
    }

    /** Opens the safetensors weights in {@code modelDir} (see the class comment for the layouts accepted). */
    public static TensorStore open(Path modelDir) {
        if (!Files.exists(modelDir)) {
            throw new BadInputException("model folder " + modelDir + " does not exist");
        }
        if (!Files.isDirectory(modelDir)) {
            throw new BadInputException("model folder " + modelDir + " is a file, not a folder");
        }
        Path index = modelDir.resolve(INDEX_FILE);
        Path single = modelDir.resolve(SINGLE_FILE);
        Arena arena = Arena.ofShared();
        List<SafeTensorsFile> files = new ArrayList<>();
        try {
            Map<String, TensorInfo> byName = new LinkedHashMap<>();
            if (Files.isRegularFile(index)) {
                Map<String, String> weightMap = readIndex(index);
                Set<String> shards = new LinkedHashSet<>(weightMap.values());
                Map<String, SafeTensorsFile> opened = new LinkedHashMap<>();
                for (String shard : shards) {
                    Path p = modelDir.resolve(shard);
                    if (!Files.isRegularFile(p)) {
                        throw new BadInputException(index + " names shard " + shard + " (for tensor "
                                + firstTensorOf(weightMap, shard) + "), but " + p + " does not exist");
                    }
                    SafeTensorsFile f = SafeTensorsFile.open(p, arena);
                    files.add(f);
                    opened.put(shard, f);
                }
                for (Map.Entry<String, String> e : weightMap.entrySet()) {
                    SafeTensorsFile f = opened.get(e.getValue());
                    TensorInfo t = f.find(e.getKey()).orElseThrow(() -> new BadInputException(
                            "tensor " + e.getKey() + " missing in " + f.path() + " (" + index + " says it is there)"));
                    byName.put(t.name(), t);
                }
                // tensors present in shards but absent from the index: keep them too, unless duplicated
                for (SafeTensorsFile f : files) {
                    for (TensorInfo t : f.tensors()) {
                        if (!weightMap.containsKey(t.name())) {
                            addUnique(byName, t);
                        }
                    }
                }
            } else {
                List<Path> paths;
                if (Files.isRegularFile(single)) {
                    paths = List.of(single);
                } else {
                    try (Stream<Path> s = Files.list(modelDir)) {
                        paths = s.filter(p -> p.getFileName().toString().endsWith(".safetensors") && Files.isRegularFile(p))
                                .sorted().toList();
                    } catch (IOException e) {
                        throw new BadInputException("cannot list model folder " + modelDir + ": " + e.getMessage(), e);
                    }
                    if (paths.isEmpty()) {
                        throw new BadInputException("no model weights in " + modelDir + ": expected " + SINGLE_FILE
                                + ", " + INDEX_FILE + " or *.safetensors files");
                    }
                }
                for (Path p : paths) {
                    SafeTensorsFile f = SafeTensorsFile.open(p, arena);
                    files.add(f);
                    for (TensorInfo t : f.tensors()) {
                        addUnique(byName, t);
                    }
                }
            }
            return new TensorStore(modelDir, arena, files, byName);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * A store over tensors another reader mapped into {@code arena} (a GGUF file), under the names given;
     * {@code closing} the store closes the arena. {@code qkPairs}: q/k projection rows are in llama.cpp's
     * adjacent-pair RoPE order (see {@link #qkRowsInPairOrder()}); {@code fileNames} gives the name a tensor has in the
     * file, for error messages.
     */
    public static TensorStore of(Path file, Arena arena, List<TensorInfo> tensors, boolean qkPairs,
                                 Function<String, String> fileNames) {
        Map<String, TensorInfo> byName = new LinkedHashMap<>();
        for (TensorInfo t : tensors) {
            addUnique(byName, t);
        }
        TensorStore s = new TensorStore(file, arena, List.of(), byName);
        s.qkPairs = qkPairs;
        s.fileNames = fileNames;
        return s;
    }

    /**
     * True when the q and k projection rows of each head are stored in llama.cpp's order for its {@code llama}
     * architecture: HF row {@code i} and {@code i + headDim/2} (a rotary pair) are rows {@code 2i} and {@code 2i+1}.
     * The model then rotates adjacent pairs instead of undoing the permutation (which would copy the weights).
     */
    public boolean qkRowsInPairOrder() {
        return qkPairs;
    }

    private static void addUnique(Map<String, TensorInfo> byName, TensorInfo t) {
        TensorInfo old = byName.putIfAbsent(t.name(), t);
        if (old != null) {
            throw new BadInputException("tensor " + t.name() + " appears twice: in " + old.file() + " and in " + t.file());
        }
    }

    private static String firstTensorOf(Map<String, String> weightMap, String shard) {
        return weightMap.entrySet().stream().filter(e -> e.getValue().equals(shard)).map(Map.Entry::getKey)
                .findFirst().orElse("?");
    }

    private static Map<String, String> readIndex(Path index) {
        JsonNode root;
        try {
            root = SafeTensorsFile.json().readTree(index.toFile());
        } catch (JsonProcessingException e) {
            throw new BadInputException(index + " is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new BadInputException("cannot read " + index + ": " + e.getMessage(), e);
        }
        JsonNode wm = root == null ? null : root.get("weight_map");
        if (wm == null || !wm.isObject() || wm.isEmpty()) {
            throw new BadInputException(index + " has no \"weight_map\" object naming the shard of each tensor");
        }
        Map<String, String> m = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = wm.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new BadInputException(index + ": weight_map entry for tensor " + e.getKey() + " is not a file name");
            }
            String shard = e.getValue().asText();
            Path p = Path.of(shard);
            if (p.isAbsolute() || shard.contains("..") || p.getNameCount() != 1) {
                throw new BadInputException(index + ": weight_map entry for tensor " + e.getKey()
                        + " names " + shard + ", which is not a file in the model folder");
            }
            m.put(e.getKey(), shard);
        }
        return m;
    }

    /** The folder (or GGUF file) this store was opened from. */
    public Path dir() {
        return dir;
    }

    /** The arena every tensor's data lives in (closed by {@link #close()}). */
    public Arena arena() {
        return arena;
    }

    /** The safetensors files opened, in order. */
    public List<SafeTensorsFile> files() {
        return files;
    }

    /**
     * The tensor called {@code name}, checking its shape when {@code expectedShape} is given.
     *
     * @throws BadInputException "tensor X missing in DIR" or "tensor X in FILE has shape [..], expected [..]"
     */
    public TensorInfo require(String name, long... expectedShape) {
        TensorInfo t = byName.get(name);
        if (t == null) {
            String inFile = fileNames.apply(name);
            throw new BadInputException("tensor " + (inFile == null || inFile.equals(name) ? name : inFile + " (" + name + ")")
                    + " missing in " + dir);
        }
        if (expectedShape != null && expectedShape.length > 0 && !Arrays.equals(t.shape(), expectedShape)) {
            throw new BadInputException("tensor " + name + " in " + t.file() + " has shape " + t.shapeString()
                    + ", expected " + Arrays.toString(expectedShape));
        }
        return t;
    }

    /** Like {@link #require} but also checks the tensor is F32, F16 or BF16. */
    public TensorInfo requireFloat(String name, long... expectedShape) {
        TensorInfo t = require(name, expectedShape);
        if (!t.dtype().isFloat32Widenable()) {
            throw new BadInputException("tensor " + name + " in " + t.file() + " has dtype " + t.dtype()
                    + ", expected F32, F16 or BF16");
        }
        return t;
    }

    /** The tensor called {@code name}, if present. */
    public Optional<TensorInfo> find(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** True if a tensor called {@code name} exists. */
    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** All tensors (index order for sharded folders, header order otherwise). */
    public List<TensorInfo> all() {
        return all;
    }

    /** Widens an F32/F16/BF16 tensor to a new float32 heap array (exact). */
    public float[] readFloats(TensorInfo t) {
        return toFloats(t);
    }

    /** Widens an F32/F16/BF16 tensor to a new float32 heap array (exact; F16 subnormals, inf and NaN kept). */
    public static float[] toFloats(TensorInfo t) {
        long n = t.elementCount();
        if (n > Integer.MAX_VALUE - 8) {
            throw new BadInputException("tensor " + t.name() + " in " + t.file() + " has " + n
                    + " elements, too many for one float array");
        }
        checkFloat(t);
        float[] out = new float[(int) n];
        widen(t.dtype(), t.data(), 0, out, 0, (int) n);
        return out;
    }

    /**
     * Widens {@code count} elements of {@code t}, starting at element {@code from}, into {@code dst[dstOffset..]}.
     * Handy for one row of an embedding table.
     */
    public static void readFloats(TensorInfo t, long from, float[] dst, int dstOffset, int count) {
        checkFloat(t);
        if (from < 0 || count < 0 || from + count > t.elementCount()) {
            throw new IndexOutOfBoundsException("elements " + from + ".." + (from + count) + " of tensor " + t.name()
                    + " with " + t.elementCount() + " elements");
        }
        widen(t.dtype(), t.data(), from, dst, dstOffset, count);
    }

    private static void checkFloat(TensorInfo t) {
        if (!t.dtype().isWeightType()) {
            throw new BadInputException("tensor " + t.name() + " in " + t.file() + " has dtype " + t.dtype()
                    + ", which cannot be read as float32 (expected F32, F16, BF16 or a quantized type)");
        }
    }

    /** Widens {@code count} elements of {@code dtype} from {@code src} (element index {@code from}) into {@code dst}. */
    static void widen(DType dtype, MemorySegment src, long from, float[] dst, int dstOffset, int count) {
        switch (dtype) {
            case F32 -> MemorySegment.copy(src, SafeTensorsFile.F32_LE, from * 4, dst, dstOffset, count);
            case BF16, F16 -> {
                final int chunk = 8192;
                short[] buf = new short[Math.min(chunk, count)];
                for (int done = 0; done < count; done += chunk) {
                    int len = Math.min(chunk, count - done);
                    MemorySegment.copy(src, SafeTensorsFile.I16_LE, (from + done) * 2, buf, 0, len);
                    int o = dstOffset + done;
                    if (dtype == DType.BF16) {
                        for (int i = 0; i < len; i++) {
                            dst[o + i] = Float.intBitsToFloat(buf[i] << 16);
                        }
                    } else {
                        for (int i = 0; i < len; i++) {
                            dst[o + i] = Float.float16ToFloat(buf[i]);
                        }
                    }
                }
            }
            default -> {
                if (!dtype.isQuantized() || from % dtype.blockSize() != 0 || count % dtype.blockSize() != 0) {
                    throw new IllegalArgumentException("cannot widen elements " + from + "+" + count + " of " + dtype);
                }
                QuantizedMatrices.dequantize(dtype.name(), src, dtype.bytesFor(from), dst, dstOffset, count);
            }
        }
    }

    /** Total bytes of all tensor data. */
    public long totalBytes() {
        long s = 0;
        for (TensorInfo t : all) {
            s += t.byteSize();
        }
        return s;
    }

    /** Unmaps every file. Tensor data handed out before must not be touched afterwards. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}

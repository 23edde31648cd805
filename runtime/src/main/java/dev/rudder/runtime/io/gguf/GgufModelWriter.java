package dev.rudder.runtime.io.gguf;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.io.RopeScaling;
import dev.rudder.runtime.io.SafeTensorsWriter;
import dev.rudder.runtime.io.TensorInfo;
import dev.rudder.runtime.io.TensorStore;
import dev.rudder.runtime.tensor.BlockQuantizer;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Writes a model as a GGUF file the way llama.cpp's converter and {@code llama-quantize} lay it out: {@code <arch>.*}
 * metadata, the tokenizer metadata handed in, llama.cpp's tensor names, q/k rows of the {@code llama} architecture in
 * adjacent-pair RoPE order, Llama 3 RoPE scaling as {@code rope_freqs.weight}; matrices quantized to Q8_0 or Q4_0 (the
 * output matrix of a Q4_0 file as Q8_0, as llama.cpp keeps it at a higher precision too) or stored as F32, F16 or BF16
 * (what llama.cpp's {@code convert_hf_to_gguf.py --outtype} writes), vectors F32.
 */
public final class GgufModelWriter {
    /** llama.cpp's {@code general.file_type} numbers. */
    private static final Map<String, Integer> FILE_TYPE = Map.of("Q8_0", 7, "Q4_0", 2, "F32", 0, "F16", 1, "BF16", 32);
    private static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private GgufModelWriter() {
    }

    /**
     * Writes {@code store} (weights of {@code config}, HF names) with matrices of {@code type} ("Q8_0", "Q4_0", "F32",
     * "F16" or "BF16") to {@code out}.
     *
     * @param tokenizer plain {@code tokenizer.*} metadata (may be empty), see {@link GgufValue#fromPlain}
     */
    public static void write(ModelConfig config, TensorStore store, String type, Map<String, Object> tokenizer,
                             String name, Path out) throws IOException {
        write(config, store, type, tokenizer, name, out, null);
    }

    /**
     * As above; for files of 64 MB or more, {@code progress} (if not null) gets a line every 5% of the tensor bytes
     * written ({@code quantize:  35%  4.7 of 13.5 GB  (120 MB/s)}). Rows are converted on all processors; the bytes
     * do not depend on how many.
     */
    public static void write(ModelConfig config, TensorStore store, String type, Map<String, Object> tokenizer,
                             String name, Path out, PrintStream progress) throws IOException {
        write(config, store, type, tokenizer, name, out, progress, 64L << 20);
    }

    /** As above, with progress from files of {@code progressFrom} bytes on. */
    static void write(ModelConfig config, TensorStore store, String type, Map<String, Object> tokenizer,
                      String name, Path out, PrintStream progress, long progressFrom) throws IOException {
        type = type.toUpperCase(Locale.ROOT);
        if (!FILE_TYPE.containsKey(type)) {
            throw new BadInputException("cannot write " + type + " weights (supported: q8_0, q4_0, bf16, f16, f32)");
        }
        String arch = config.architecture().equals(ModelConfig.QWEN2) ? "qwen2" : "llama";
        GgufWriter w = new GgufWriter();
        String p = arch + ".";
        w.put("general.architecture", GgufValue.string(arch));
        w.put("general.name", GgufValue.string(name));
        w.put(p + "vocab_size", GgufValue.uint32(config.vocabSize()));
        w.put(p + "context_length", GgufValue.uint32(config.maxPositionEmbeddings()));
        w.put(p + "embedding_length", GgufValue.uint32(config.hiddenSize()));
        w.put(p + "block_count", GgufValue.uint32(config.numLayers()));
        w.put(p + "feed_forward_length", GgufValue.uint32(config.intermediateSize()));
        w.put(p + "attention.head_count", GgufValue.uint32(config.numHeads()));
        w.put(p + "attention.head_count_kv", GgufValue.uint32(config.numKvHeads()));
        w.put(p + "attention.key_length", GgufValue.uint32(config.headDim()));
        w.put(p + "attention.value_length", GgufValue.uint32(config.headDim()));
        w.put(p + "rope.dimension_count", GgufValue.uint32(config.headDim()));
        w.put(p + "attention.layer_norm_rms_epsilon", GgufValue.float32((float) config.rmsNormEps()));
        w.put(p + "rope.freq_base", GgufValue.float32((float) config.ropeTheta()));
        RopeScaling rs = config.ropeScaling();
        if (rs != null && rs.isLinear()) {
            w.put(p + "rope.scaling.type", GgufValue.string("linear"));
            w.put(p + "rope.scaling.factor", GgufValue.float32((float) rs.factor()));
        }
        w.put("general.file_type", GgufValue.uint32(FILE_TYPE.get(type)));
        w.put("general.quantization_version", GgufValue.uint32(2));
        for (Map.Entry<String, Object> e : tokenizer.entrySet()) {
            w.put(e.getKey(), GgufValue.fromPlain(e.getValue()));
        }
        if (rs != null && rs.isLlama3() && !store.contains("rope_freqs.weight")) {
            w.addF32("rope_freqs.weight", llama3FreqFactors(config), config.headDim() / 2);
        }
        boolean toPairs = arch.equals("llama") && !store.qkRowsInPairOrder();
        for (TensorInfo t : store.all()) {
            if (config.tieWordEmbeddings() && t.name().equals("lm_head.weight")) {
                continue;
            }
            String g = t.name().equals("rope_freqs.weight") ? t.name() : GgufNames.toGguf(t.name());
            if (g == null) {
                throw new BadInputException("tensor " + t.name() + " in " + t.file() + " has no llama.cpp name");
            }
            add(w, g, t, tensorType(g, t, type), toPairs && GgufNames.isQueryOrKey(t.name()) ? config.headDim() : 0);
        }
        long total = w.tensorBytes();
        if (progress == null || total < progressFrom) {
            w.write(out);
            return;
        }
        long start = System.nanoTime();
        int[] lastStep = {0};
        w.write(out, done -> {
            int step = (int) (20 * done / total);   // 5% steps
            if (step != lastStep[0]) {
                lastStep[0] = step;
                double s = Math.max(1e-3, (System.nanoTime() - start) / 1e9);
                progress.printf(Locale.ROOT, "quantize: %3d%%  %.1f of %.1f GB  (%.0f MB/s)%n", 5 * step, done / 1e9,
                        total / 1e9, done / 1e6 / s);
                progress.flush();
            }
        });
    }

    /**
     * Matrices in {@code type}: float types for every matrix, Q8_0/Q4_0 for matrices whose rows are whole blocks (the
     * output matrix of a Q4_0 file as Q8_0); everything else F32.
     */
    private static GgmlType tensorType(String ggufName, TensorInfo t, String type) {
        GgmlType target = GgmlType.valueOf(type);
        if (t.rank() == 2 && (target == GgmlType.F16 || target == GgmlType.BF16)) {
            return target;
        }
        if (t.rank() != 2 || t.dim(1) % 32 != 0 || target == GgmlType.F32) {
            return GgmlType.F32;
        }
        if (ggufName.equals("output.weight")) {
            return GgmlType.Q8_0;
        }
        return target;
    }

    /** Adds {@code t} as {@code type}; {@code pairHeadDim > 0}: rows reordered into llama.cpp's pair order. */
    private static void add(GgufWriter w, String name, TensorInfo t, GgmlType type, int pairHeadDim) {
        long[] shape = t.shape();
        long[] dims = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            dims[i] = shape[shape.length - 1 - i];
        }
        int rows = t.rank() == 0 ? 1 : (int) t.dim(0);
        int cols = (int) (t.elementCount() / Math.max(1, rows));
        long rowBytes = switch (type) {
            case F32 -> 4L * cols;
            case F16, BF16 -> 2L * cols;
            default -> BlockQuantizer.bytes(type.name(), cols);
        };
        if (rowBytes * rows > Integer.MAX_VALUE - 8) {
            throw new BadInputException("tensor " + t.name() + " is too large to write (" + rowBytes * rows + " bytes)");
        }
        w.add(name, type, () -> {
            MemorySegment outSeg = MemorySegment.ofArray(new byte[(int) (rowBytes * rows)]);
            // rows are independent: blocks of them in parallel (llama-quantize uses every core too)
            int block = Math.max(1, (1 << 20) / Math.max(1, cols));   // ~1M weights per task
            IntStream.range(0, (rows + block - 1) / block).parallel().forEach(b -> {
                float[] row = new float[cols];   // [cols]
                for (int r = b * block; r < Math.min(rows, (b + 1) * block); r++) {
                    int src = pairHeadDim > 0 ? GgufNames.hfRowOfPairRow(r, pairHeadDim) : r;
                    TensorStore.readFloats(t, (long) src * cols, row, 0, cols);
                    if (type == GgmlType.F32) {
                        MemorySegment.copy(row, 0, outSeg, F32_LE, r * rowBytes, cols);
                    } else if (type == GgmlType.F16 || type == GgmlType.BF16) {
                        for (int c = 0; c < cols; c++) {
                            short h = type == GgmlType.F16 ? Float.floatToFloat16(row[c]) : SafeTensorsWriter.floatToBf16(row[c]);
                            outSeg.set(I16_LE, r * rowBytes + 2L * c, h);
                        }
                    } else {
                        BlockQuantizer.quantize(type.name(), row, 0, cols, outSeg, r * rowBytes);
                    }
                }
            });
            return outSeg;
        }, dims.length == 0 ? new long[] {1} : dims);
    }

    /** llama.cpp's {@code rope_freqs} for Llama 3 scaling: unscaled over scaled frequency, per pair. */
    static float[] llama3FreqFactors(ModelConfig c) {
        double[] plain = RopeScaling.inverseFrequencies(c.headDim(), c.ropeTheta(), null);
        double[] scaled = RopeScaling.inverseFrequencies(c.headDim(), c.ropeTheta(), c.ropeScaling());
        float[] f = new float[plain.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) (plain[i] / scaled[i]);
        }
        return f;
    }

}

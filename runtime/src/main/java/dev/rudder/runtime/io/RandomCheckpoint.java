package dev.rudder.runtime.io;

import dev.rudder.runtime.BadInputException;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Writes Hugging Face style checkpoints with random weights in the exact shape of real models, so decode and
 * prefill can be benchmarked without downloading anything ({@code rudder random-model}, the JMH benchmarks).
 *
 * <p>Weights are seeded and deterministic (independent of the number of threads): every projection
 * {@code [out, in]} is normal-ish (Irwin-Hall of four uniforms) with standard deviation {@code 1/sqrt(in)},
 * the embedding and {@code lm_head} use {@code 2/sqrt(hidden)} (logits with std ~2), RMSNorm weights are 1 and
 * biases 0, so activations stay O(1). The safetensors file is streamed: a few MB per thread in memory at a
 * time, whatever the model size (llama-2-7b in BF16 is 13.5 GB).
 */
public final class RandomCheckpoint {

    /** Named shapes: {@code smollm2-135m}, {@code llama-3.2-1b}, {@code llama-2-7b}, {@code tiny}. */
    public static final List<String> SHAPES = List.of("smollm2-135m", "llama-3.2-1b", "llama-2-7b", "tiny");

    /** Elements per generated chunk; fixed so that output does not depend on the thread count. */
    static final int CHUNK = 1 << 20;

    private RandomCheckpoint() {
    }

    /** The configuration of a named shape, with {@code torch_dtype} set from {@code dtype}. */
    public static ModelConfig config(String shape, DType dtype) {
        String td = checkDtype(dtype).torchName();
        return switch (shape == null ? "" : shape.toLowerCase(Locale.ROOT)) {
            case "smollm2-135m" -> new ModelConfig(ModelConfig.LLAMA, "llama", 576, 30, 9, 3, 64, 1536, 49152, 1e-5,
                    100000, null, 8192, true, false, false, 1, List.of(2), td);
            case "llama-3.2-1b" -> new ModelConfig(ModelConfig.LLAMA, "llama", 2048, 16, 32, 8, 64, 8192, 128256, 1e-5,
                    500000, RopeScaling.llama3(32, 1, 4, 8192), 131072, true, false, false, 128000,
                    List.of(128001, 128008, 128009), td);
            case "llama-2-7b" -> new ModelConfig(ModelConfig.LLAMA, "llama", 4096, 32, 32, 32, 128, 11008, 32000, 1e-5,
                    10000, null, 4096, false, false, false, 1, List.of(2), td);
            case "tiny" -> new ModelConfig(ModelConfig.LLAMA, "llama", 64, 2, 4, 2, 16, 192, 1024, 1e-5,
                    10000, null, 2048, true, false, false, 1, List.of(2), td);
            default -> throw new BadInputException("unknown shape \"" + shape + "\" (known: " + String.join(", ", SHAPES) + ")");
        };
    }

    private static DType checkDtype(DType dtype) {
        if (dtype == null || !dtype.isFloat32Widenable()) {
            throw new BadInputException("random-model weights must be F32, F16 or BF16, not " + dtype);
        }
        return dtype;
    }

    /** One tensor to generate: its spec and how to fill it. */
    public record Planned(SafeTensorsWriter.TensorSpec spec, double std, float constant) {
        boolean isConstant() {
            return std == 0;
        }
    }

    /** The tensors of {@code c} in file order, Hugging Face names, with their initialisation. */
    public static List<Planned> plan(ModelConfig c, DType dtype) {
        long h = c.hiddenSize(), q = c.qDim(), kv = c.kvDim(), im = c.intermediateSize(), v = c.vocabSize();
        double embStd = 2.0 / Math.sqrt(h);
        List<Planned> p = new ArrayList<>();
        p.add(normal("model.embed_tokens.weight", dtype, embStd, v, h));
        for (int l = 0; l < c.numLayers(); l++) {
            String pre = "model.layers." + l + ".";
            p.add(constant(pre + "input_layernorm.weight", dtype, 1f, h));
            p.add(normal(pre + "self_attn.q_proj.weight", dtype, 1 / Math.sqrt(h), q, h));
            p.add(normal(pre + "self_attn.k_proj.weight", dtype, 1 / Math.sqrt(h), kv, h));
            p.add(normal(pre + "self_attn.v_proj.weight", dtype, 1 / Math.sqrt(h), kv, h));
            if (c.attentionBias()) {
                p.add(constant(pre + "self_attn.q_proj.bias", dtype, 0f, q));
                p.add(constant(pre + "self_attn.k_proj.bias", dtype, 0f, kv));
                p.add(constant(pre + "self_attn.v_proj.bias", dtype, 0f, kv));
            }
            p.add(normal(pre + "self_attn.o_proj.weight", dtype, 1 / Math.sqrt(q), h, q));
            if (c.attentionBias() && !ModelConfig.QWEN2.equals(c.architecture())) {
                p.add(constant(pre + "self_attn.o_proj.bias", dtype, 0f, h));
            }
            p.add(constant(pre + "post_attention_layernorm.weight", dtype, 1f, h));
            p.add(normal(pre + "mlp.gate_proj.weight", dtype, 1 / Math.sqrt(h), im, h));
            p.add(normal(pre + "mlp.up_proj.weight", dtype, 1 / Math.sqrt(h), im, h));
            p.add(normal(pre + "mlp.down_proj.weight", dtype, 1 / Math.sqrt(im), h, im));
            if (c.mlpBias()) {
                p.add(constant(pre + "mlp.gate_proj.bias", dtype, 0f, im));
                p.add(constant(pre + "mlp.up_proj.bias", dtype, 0f, im));
                p.add(constant(pre + "mlp.down_proj.bias", dtype, 0f, h));
            }
        }
        p.add(constant("model.norm.weight", dtype, 1f, h));
        if (!c.tieWordEmbeddings()) {
            p.add(normal("lm_head.weight", dtype, embStd, v, h));
        }
        return p;
    }

    private static Planned normal(String name, DType d, double std, long... shape) {
        return new Planned(new SafeTensorsWriter.TensorSpec(name, d, shape), std, 0f);
    }

    private static Planned constant(String name, DType d, float value, long... shape) {
        return new Planned(new SafeTensorsWriter.TensorSpec(name, d, shape), 0, value);
    }

    /** Bytes of the weights {@code c} needs in {@code dtype}. */
    public static long weightBytes(ModelConfig c, DType dtype) {
        long s = 0;
        for (Planned p : plan(c, dtype)) {
            s += p.spec().byteSize();
        }
        return s;
    }

    /** Writes a named shape; see {@link #write(Path, ModelConfig, DType, long, int, PrintStream, String)}. */
    public static void write(Path outDir, String shape, DType dtype, long seed, PrintStream progress) throws IOException {
        write(outDir, config(shape, dtype), dtype, seed, Runtime.getRuntime().availableProcessors(), progress, shape);
    }

    /**
     * Writes {@code config.json}, {@code model.safetensors} (streamed) and a {@code README.md} into {@code outDir}
     * (created if needed; files of the same names are replaced).
     *
     * @param progress where to report progress for large models (null: silent)
     * @param label    shape name for the README (may be null)
     */
    public static void write(Path outDir, ModelConfig config, DType dtype, long seed, int threads, PrintStream progress,
                             String label) throws IOException {
        checkDtype(dtype);
        List<Planned> plan = plan(config, dtype);
        long total = 0;
        for (Planned p : plan) {
            total += p.spec().byteSize();
        }
        Files.createDirectories(outDir);
        long free = Files.getFileStore(outDir).getUsableSpace();
        if (free > 0 && free < total + (16L << 20)) {
            throw new BadInputException("not enough disk space in " + outDir + ": the model needs " + gb(total)
                    + ", " + gb(free) + " free");
        }
        Files.deleteIfExists(outDir.resolve(TensorStore.INDEX_FILE)); // would take precedence over model.safetensors
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("rudder.random", "true");
        meta.put("rudder.shape", label == null ? "custom" : label);
        meta.put("rudder.seed", Long.toString(seed));
        List<SafeTensorsWriter.TensorSpec> specs = plan.stream().map(Planned::spec).toList();
        boolean verbose = progress != null && total >= (64L << 20);
        long start = System.nanoTime();
        long[] done = {0};
        int[] lastPct = {-1};
        int nThreads = Math.max(1, threads);
        ExecutorService pool = Executors.newFixedThreadPool(nThreads, r -> {
            Thread t = new Thread(r, "random-model");
            t.setDaemon(true);
            return t;
        });
        try {
            final long totalBytes = total;
            SafeTensorsWriter.stream(outDir.resolve(TensorStore.SINGLE_FILE), meta, specs, (i, spec, sink) -> {
                Planned pl = plan.get(i);
                long n = spec.elementCount();
                int chunks = (int) ((n + CHUNK - 1) / CHUNK);
                int batch = nThreads * 2;
                for (int c0 = 0; c0 < chunks; c0 += batch) {
                    List<Future<ByteBuffer>> fs = new ArrayList<>();
                    for (int c = c0; c < Math.min(chunks, c0 + batch); c++) {
                        final int chunk = c;
                        final int len = (int) Math.min(CHUNK, n - (long) c * CHUNK);
                        fs.add(pool.submit(() -> generate(pl, seed, i, chunk, len)));
                    }
                    for (Future<ByteBuffer> f : fs) {
                        ByteBuffer b = get(f);
                        done[0] += b.remaining();
                        sink.write(b);
                    }
                    if (verbose) {
                        int pct = (int) (100 * done[0] / totalBytes);
                        if (pct / 5 != lastPct[0] / 5) {
                            lastPct[0] = pct;
                            double s = (System.nanoTime() - start) / 1e9;
                            progress.printf(Locale.ROOT, "random-model: %3d%%  %s of %s  (%.0f MB/s)%n", pct, gb(done[0]),
                                    gb(totalBytes), done[0] / 1e6 / Math.max(s, 1e-3));
                            progress.flush();
                        }
                    }
                }
                if (chunks == 0) {
                    sink.write(ByteBuffer.allocate(0));
                }
            });
        } finally {
            pool.shutdownNow();
        }
        Files.writeString(outDir.resolve(ModelDirectory.CONFIG), config.toJson(), StandardCharsets.UTF_8);
        Files.writeString(outDir.resolve("README.md"), readme(config, dtype, seed, label, total), StandardCharsets.UTF_8);
        if (verbose) {
            progress.printf(Locale.ROOT, "random-model: wrote %s in %.1f s%n", gb(total), (System.nanoTime() - start) / 1e9);
            progress.flush();
        }
    }

    /**
     * Makes sure {@code outDir} holds the named random model with this dtype and seed, writing it only if
     * it is missing or different. Returns {@code outDir}. Handy for benchmarks.
     */
    public static Path ensure(Path outDir, String shape, DType dtype, long seed, PrintStream progress) throws IOException {
        ModelConfig c = config(shape, dtype);
        Path st = outDir.resolve(TensorStore.SINGLE_FILE);
        Path cfg = outDir.resolve(ModelDirectory.CONFIG);
        if (Files.isRegularFile(st) && Files.isRegularFile(cfg)) {
            try (SafeTensorsFile f = SafeTensorsFile.open(st)) {
                if (c.equals(ModelConfig.read(cfg)) && Long.toString(seed).equals(f.metadata().get("rudder.seed"))
                        && shape.equals(f.metadata().get("rudder.shape"))) {
                    return outDir;
                }
            } catch (BadInputException e) {
                // rewrite below
            }
        }
        write(outDir, shape, dtype, seed, progress);
        return outDir;
    }

    private static ByteBuffer get(Future<ByteBuffer> f) throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IOException(e.getCause());
        }
    }

    /** The bytes of chunk {@code chunk} of tensor {@code tensor}: a pure function of (seed, tensor, chunk). */
    static ByteBuffer generate(Planned p, long seed, int tensor, int chunk, int len) {
        DType d = p.spec().dtype();
        ByteBuffer b = ByteBuffer.allocate(len * d.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        float[] vals = new float[Math.min(len, 4096)];
        if (p.isConstant()) {
            java.util.Arrays.fill(vals, p.constant());
            for (int done = 0; done < len; done += vals.length) {
                SafeTensorsWriter.encodeFloats(d, vals, 0, Math.min(vals.length, len - done), b);
            }
        } else {
            long state = mix(mix(seed ^ 0x52554444L) + tensor * 0x9E3779B97F4A7C15L + chunk * 0xC2B2AE3D27D4EB4FL);
            double scale = Math.sqrt(3.0) * p.std() / 65536.0; // Irwin-Hall(4): variance 4/12 per unit range
            for (int done = 0; done < len; done += vals.length) {
                int m = Math.min(vals.length, len - done);
                for (int i = 0; i < m; i++) {
                    state += 0x9E3779B97F4A7C15L;
                    long r = mix(state);
                    long s = (r & 0xffff) + ((r >>> 16) & 0xffff) + ((r >>> 32) & 0xffff) + (r >>> 48);
                    vals[i] = (float) ((s - 2 * 65535.0) * scale);
                }
                SafeTensorsWriter.encodeFloats(d, vals, 0, m, b);
            }
        }
        return b.flip();
    }

    /** SplitMix64 finaliser. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    static String gb(long bytes) {
        if (bytes >= 1L << 30) {
            return String.format(Locale.ROOT, "%.1f GB", bytes / 1e9);
        }
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }

    private static String readme(ModelConfig c, DType dtype, long seed, String label, long bytes) {
        String name = label == null ? "custom" : label;
        return """
                # Random %s checkpoint (NOT a trained model)

                Written by `rudder random-model --shape %s --dtype %s --seed %d`. The weights are **random**:
                the model produces gibberish. It exists to benchmark decode and prefill speed on the exact
                shape of a real model without downloading it.

                - architecture: %s, hidden %d, %d layers, %d heads / %d KV heads (head_dim %d),
                  intermediate %d, vocab %d, %s embeddings, rope_theta %s%s
                - weights: %s, %s, %,d parameters
                - initialisation (seeded, deterministic): projections normal-ish with std 1/sqrt(fan_in), embeddings
                  std 2/sqrt(hidden), RMSNorm weights 1, biases 0, so activations stay O(1).
                - no tokenizer is included: feed token ids (`rudder generate --prompt-ids 1,2,3`), or copy a
                  matching `tokenizer.json` into this folder.
                """.formatted(name, name, dtype.name().toLowerCase(Locale.ROOT), seed,
                c.architecture(), c.hiddenSize(), c.numLayers(), c.numHeads(), c.numKvHeads(), c.headDim(),
                c.intermediateSize(), c.vocabSize(), c.tieWordEmbeddings() ? "tied" : "untied",
                num(c.ropeTheta()),
                c.ropeScaling() == null ? "" : ", rope_scaling " + c.ropeScaling().type() + " (factor "
                        + num(c.ropeScaling().factor()) + ")",
                dtype, gb(bytes), c.parameterCount());
    }

    private static String num(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString((long) d) : Double.toString(d);
    }
}

package dev.rudder.cli;

import dev.rudder.GenerationRequest;
import dev.rudder.LoadOptions;
import dev.rudder.Rudder;
import dev.rudder.runtime.backend.KvCacheType;
import dev.rudder.runtime.backend.KvCacheTypes;
import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.io.OutputPaths;
import dev.rudder.runtime.io.ModelDirectory;
import dev.rudder.runtime.io.RandomCheckpoint;
import dev.rudder.runtime.io.SafeTensorsWriter;
import dev.rudder.runtime.io.TensorStore;
import dev.rudder.runtime.io.gguf.GgufModel;
import dev.rudder.runtime.io.gguf.GgufModelWriter;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.parallel.WorkerPool;
import dev.rudder.runtime.sample.SamplerOptions;

import java.io.IOException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import java.util.List;
import java.util.Map;

/**
 * Gets the forward pass compiled by C2 before a one-shot command's prompt runs. Until C2 has compiled the Vector
 * API kernels every vector operation allocates and runs ~50x slower: a cold 140-token prefill on the SmolLM2-135M
 * shape spent over a second in its first block alone. A daemon thread, started before option parsing, loads a
 * one-block model with the SmolLM2-135M widths (576 hidden, 9 heads of 64, 1536 MLP; 256-token vocabulary, patterned
 * BF16 weights, ~7 MB) as the command will load the real one (memory-mapped, the same thread count) and generates
 * from prompts of 8, 32 and 140 tokens while the main thread parses the options and maps the real model. The JIT
 * then compiles the very call sites the real prompt runs (the matmul driver over mapped weights, attention, rope,
 * norms, sampling, decode) with their real profiles; calling the kernels alone on synthetic buffers (the first
 * version) left C2 code that the real prefill deoptimized (another memory-segment class, untouched callers).
 *
 * <p>{@code generate} waits for it ({@link #awaitBeforePrompt}, at most {@link #MAX_WAIT_NANOS}) before its prompt:
 * running the prompt interpreted while the compiler threads work would take the same cores for slower code
 * (a prompt under {@link #WAIT_MIN_PROMPT} tokens does not wait, and the warm-up ends after its round). The
 * launcher keeps the warm-up model next to the AOT cache ({@code -Drudder.warmup.model=DIR}, made by
 * {@link AotTraining}); without it the model is written to a temporary folder first.
 *
 * <p>It shares no state with the real model (separate model, pool and sessions; the kernels are stateless), so
 * outputs do not change. {@code -Drudder.warmup=false} turns it off.
 */
final class KernelWarmup {
    private static final long MAX_NANOS = 4_000_000_000L;
    /** The longest {@link #awaitBeforePrompt} waits. */
    static final long MAX_WAIT_NANOS = 3_000_000_000L;
    private static final int VOCAB = 256;
    private static final int DECODE = 8;
    /** Prompt length of each round: short ones first, so the first compiles come early; then the length of a real prompt. */
    private static final int[] PROMPTS = {8, 32, 140, 140};

    /** Shorter prompts than this do not wait for the warm-up: their prefill is too small to gain what the wait costs. */
    static final int WAIT_MIN_PROMPT = 32;

    /** The warm-up model's GGUF copy, beside its safetensors file. */
    static final String GGUF_FILE = "warmup.gguf";

    private static volatile Thread running;
    private static volatile boolean stopped;

    private KernelWarmup() {
    }

    /**
     * Starts the warm-up thread for the verbs that run a prompt once, unless turned off; returns at
     * once, true when it started one.
     */
    static boolean startFor(String[] args) {
        boolean oneShot = args.length > 0 && (args[0].equals("generate") || args[0].equals("chat"));
        String device = optionIn(args, "--device");
        boolean cpu = device == null || device.trim().equalsIgnoreCase("cpu");   // a GPU run needs no CPU kernels
        if (!oneShot || !cpu || !Boolean.parseBoolean(System.getProperty("rudder.warmup", "true"))) {
            return false;
        }
        int threads = threadsIn(args);
        boolean gguf = ggufModelIn(args);
        KvCacheTypes cache = cacheTypesIn(args);
        String prepared = System.getProperty("rudder.warmup.model");
        Thread t = new Thread(() -> runQuietly(threads, prepared == null ? null : Path.of(prepared), gguf, cache),
                "rudder-kernel-warmup");
        t.setDaemon(true);
        running = t;
        t.start();
        return true;
    }

    /**
     * Before a prompt of {@code promptTokens}: waits for a running warm-up to finish, at most {@link #MAX_WAIT_NANOS},
     * or, for a prompt shorter than {@link #WAIT_MIN_PROMPT}, lets it end after its current round without waiting.
     * Returns the nanoseconds waited (0 when none runs).
     */
    static long awaitBeforePrompt(int promptTokens) {
        Thread t = running;
        if (t == null) {
            return 0;
        }
        if (promptTokens < WAIT_MIN_PROMPT) {
            stopped = true;
            return 0;
        }
        long start = System.nanoTime();
        try {
            t.join(MAX_WAIT_NANOS / 1_000_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        running = null;
        return System.nanoTime() - start;
    }

    /** The {@code --threads} value in {@code args} (the real command checks it), else the default. */
    static int threadsIn(String[] args) {
        String v = optionIn(args, "--threads");
        if (v != null) {
            try {
                int n = Integer.parseInt(v.trim());
                return Math.max(1, Math.min(n, Runtime.getRuntime().availableProcessors()));
            } catch (NumberFormatException e) {
                return WorkerPool.defaultThreads();
            }
        }
        return WorkerPool.defaultThreads();
    }

    /**
     * Whether {@code -m} names a GGUF file: the warm-up then loads its GGUF copy. The two forms take different
     * paths (GGUF parsing instead of JSON, pair-order RoPE), and a warm-up of the other form would leave the real
     * model's to be compiled cold (and load Jackson, whose BigDecimal constants cost a GGUF run ~0.15 s of CPU).
     */
    static boolean ggufModelIn(String[] args) {
        String m = optionIn(args, "-m");
        if (m == null) {
            m = optionIn(args, "--model");
        }
        if (m == null) {
            return false;
        }
        try {
            return GgufModel.isGgufFile(Path.of(m.trim()));
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * The {@code -ctk/--cache-type-k} and {@code -ctv/--cache-type-v} values in {@code args}, so a 16-bit cache's
     * widening runs compiled too; float32 where absent or misspelt (the real command reports that).
     */
    static KvCacheTypes cacheTypesIn(String[] args) {
        return new KvCacheTypes(cacheTypeIn(args, "-ctk", "--cache-type-k"), cacheTypeIn(args, "-ctv", "--cache-type-v"));
    }

    private static KvCacheType cacheTypeIn(String[] args, String shortName, String longName) {
        String v = optionIn(args, shortName);
        if (v == null) {
            v = optionIn(args, longName);
        }
        try {
            return v == null ? KvCacheType.F32 : KvCacheType.parse(v);
        } catch (RuntimeException e) {
            return KvCacheType.F32;
        }
    }

    /** The value of option {@code name} ({@code name V} or {@code name=V}) after the verb, or null. */
    private static String optionIn(String[] args, String name) {
        for (int i = 1; i < args.length; i++) {
            if (args[i].startsWith(name + "=")) {
                return args[i].substring(name.length() + 1);
            }
            if (args[i].equals(name) && i + 1 < args.length) {
                return args[i + 1];
            }
        }
        return null;
    }

    private static void runQuietly(int threads, Path prepared, boolean gguf, KvCacheTypes cache) {
        try {
            run(PROMPTS.length, MAX_NANOS, threads, prepared, gguf, cache);
        } catch (RuntimeException | LinkageError | IOException e) {
            // a warm-up that fails costs only speed: the real command reports its own errors
        } finally {
            running = null;
        }
    }

    /**
     * Generates from the warm-up model (the one in {@code prepared} if it holds one, else a temporary one; its GGUF
     * copy when {@code gguf}) {@code rounds} times or until {@code maxNanos} have passed; returns the rounds run.
     */
    static int run(int rounds, long maxNanos, int threads, Path prepared, boolean gguf) throws IOException {
        return run(rounds, maxNanos, threads, prepared, gguf, KvCacheTypes.DEFAULT);
    }

    /** As above, with sessions whose KV caches are stored as {@code cache} says. */
    static int run(int rounds, long maxNanos, int threads, Path prepared, boolean gguf, KvCacheTypes cache)
            throws IOException {
        long end = System.nanoTime() + maxNanos;
        boolean usePrepared = prepared != null && Files.isRegularFile(prepared.resolve(TensorStore.SINGLE_FILE))
                && Files.isRegularFile(prepared.resolve(ModelDirectory.CONFIG))
                && Files.isRegularFile(prepared.resolve(GGUF_FILE));
        Path dir = usePrepared ? prepared : Files.createTempDirectory("rudder-warmup");
        try {
            if (!usePrepared) {
                // the command may exit before the warm-up ends (a daemon thread): the JVM deletes these then
                dir.toFile().deleteOnExit();
                dir.resolve(TensorStore.SINGLE_FILE).toFile().deleteOnExit();
                dir.resolve(ModelDirectory.CONFIG).toFile().deleteOnExit();
                dir.resolve(GGUF_FILE).toFile().deleteOnExit();
                write(dir);
            }
            int r = 0;
            try (Rudder model = Rudder.load(gguf ? dir.resolve(GGUF_FILE) : dir,
                    LoadOptions.defaults().withThreads(threads).withKvCache(cache))) {
                for (; r < rounds && !stopped && System.nanoTime() < end; r++) {
                    int n = PROMPTS[Math.min(r, PROMPTS.length - 1)];
                    int[] ids = new int[n];
                    for (int i = 0; i < n; i++) {
                        ids[i] = 3 + i * 37 % (VOCAB - 3);
                    }
                    // greedy and sampled rounds alternate, as the user's temperature may be either
                    SamplerOptions sampling = r % 2 == 0 ? SamplerOptions.GREEDY
                            : new SamplerOptions(0.8f, 0, 1f, 0f, 1f, r);
                    GenerationRequest req = new GenerationRequest(PromptInput.tokens(ids), sampling, DECODE, null, 0, false);
                    model.generate(req, piece -> { });
                }
            }
            return r;
        } finally {
            if (!usePrepared) {
                OutputPaths.deleteTree(dir);
            }
        }
    }

    /** The SmolLM2-135M shape cut to one block and a small vocabulary. */
    static ModelConfig config() {
        ModelConfig c = RandomCheckpoint.config("smollm2-135m", DType.BF16);
        return new ModelConfig(c.architecture(), c.modelType(), c.hiddenSize(), 1, c.numHeads(), c.numKvHeads(),
                c.headDim(), c.intermediateSize(), VOCAB, c.rmsNormEps(), c.ropeTheta(), c.ropeScaling(),
                c.maxPositionEmbeddings(), c.tieWordEmbeddings(), c.attentionBias(), c.mlpBias(), c.bosTokenId(),
                c.eosTokenIds(), c.torchDtype());
    }

    /**
     * Writes the warm-up model into {@code dir}: every tensor filled with one repeated block of small BF16 values of
     * both signs (bulk writes: generating random weights would itself run cold); then its BF16 GGUF copy,
     * {@link #GGUF_FILE}, as {@code rudder quantize --type bf16} writes it.
     */
    static void write(Path dir) throws IOException {
        ModelConfig c = config();
        ByteBuffer pattern = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN); // [32768] bf16
        for (int i = 0; i < pattern.capacity() / 2; i++) {
            int h = i * 0x9E3779B1;
            // exponent 2^-7, a varying mantissa, either sign: |w| in [0.0078, 0.0156)
            pattern.putShort((short) ((h >>> 31) << 15 | (0x3C00 + ((h >>> 16) & 0x7F))));
        }
        List<SafeTensorsWriter.TensorSpec> specs = RandomCheckpoint.plan(c, DType.BF16).stream()
                .map(RandomCheckpoint.Planned::spec).toList();
        SafeTensorsWriter.stream(dir.resolve(TensorStore.SINGLE_FILE), Map.of("format", "pt"), specs, (i, spec, sink) -> {
            long left = spec.byteSize();
            while (left > 0) {
                int len = (int) Math.min(left, pattern.capacity());
                sink.write(pattern.duplicate().clear().limit(len));
                left -= len;
            }
        });
        Files.writeString(dir.resolve(ModelDirectory.CONFIG), c.toJson(), StandardCharsets.UTF_8);
        try (TensorStore store = TensorStore.open(dir)) {
            GgufModelWriter.write(c, store, "BF16", Map.of(), "warmup", dir.resolve(GGUF_FILE));
        }
    }
}

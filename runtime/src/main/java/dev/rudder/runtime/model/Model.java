package dev.rudder.runtime.model;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.backend.Backend;
import dev.rudder.runtime.backend.KvCacheTypes;
import dev.rudder.runtime.backend.cpu.CpuBackend;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.io.ModelFiles;
import dev.rudder.runtime.io.TensorStore;
import dev.rudder.runtime.parallel.WorkerPool;
import dev.rudder.runtime.steer.SteeringPlan;

import java.nio.file.Path;
import java.util.List;

/**
 * A loaded LLaMA-family model: configuration, memory-mapped weights and the {@link Backend} the
 * forward pass runs on. Thread-safe to share; all per-request state lives in a {@link Session}.
 */
public final class Model implements AutoCloseable {
    private final Path directory;
    private final ModelConfig config;
    private final TensorStore store;
    private final ModelWeights weights;
    private final Backend backend;
    private final ForwardPass forwardPass;

    private final KvCacheTypes kvCache;

    private Model(Path directory, ModelConfig config, TensorStore store, ModelWeights weights, Backend backend,
                  KvCacheTypes kvCache) {
        this.kvCache = kvCache;
        this.directory = directory;
        this.config = config;
        this.store = store;
        this.weights = weights;
        this.backend = backend;
        this.forwardPass = new ForwardPass(backend, config.numLayers());
    }

    /** Loads a Hugging Face model folder (or HF cache folder, or a GGUF file) with one worker per processor. */
    public static Model load(Path dir) {
        return load(dir, WorkerPool.defaultThreads(), null);
    }

    /**
     * Loads a model folder or a GGUF model file (llama.cpp's format: config from its metadata, weights of any
     * supported type mapped without copying). {@code threads} workers split every matrix product; {@code transform}
     * (may be null) replaces tensors at load time, e.g. to merge alignment vectors.
     */
    public static Model load(Path dir, int threads, WeightTransform transform) {
        return load(dir, threads, transform, CpuBackend::new);
    }

    /** Loads a model folder onto the backend {@code backend} makes (e.g. {@code CpuBackend::new}). */
    public static Model load(Path dir, int threads, WeightTransform transform, Backend.Factory backend) {
        return load(dir, threads, transform, null, backend);
    }

    /**
     * Loads a model, quantizing its float matrices to {@code quantize} ("Q8_0", "Q4_0"; null: as stored) on the way
     * (see {@link ModelWeights#ModelWeights(ModelConfig, TensorStore, WeightTransform, String)}).
     */
    public static Model load(Path dir, int threads, WeightTransform transform, String quantize, Backend.Factory backend) {
        return load(dir, threads, transform, quantize, backend, KvCacheTypes.DEFAULT);
    }

    /** As above, every session's KV cache stored as {@code kvCache} says (null: float32). */
    public static Model load(Path dir, int threads, WeightTransform transform, String quantize, Backend.Factory backend,
                             KvCacheTypes kvCache) {
        if (threads < 1) {
            throw new BadInputException("--threads must be at least 1, got " + threads);
        }
        ModelFiles files = ModelFiles.open(dir);
        Path resolved = files.path();
        ModelConfig config = files.config();
        TensorStore store = files.store();
        try {
            ModelWeights weights = new ModelWeights(config, store, transform, quantize);
            return new Model(resolved, config, store, weights, backend.create(config, weights, threads),
                    kvCache == null ? KvCacheTypes.DEFAULT : kvCache);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    public ModelConfig config() {
        return config;
    }

    /** The model folder, or the GGUF file the model was loaded from. */
    public Path directory() {
        return directory;
    }

    public int threads() {
        return backend.threads();
    }

    public ModelWeights weights() {
        return weights;
    }

    public Backend backend() {
        return backend;
    }

    /** How sessions of this model store their KV caches. */
    public KvCacheTypes kvCache() {
        return kvCache;
    }

    ForwardPass forwardPass() {
        return forwardPass;
    }

    /** A fresh request: KV cache for {@code contextLength} positions, steered by {@code plan}. */
    public Session newSession(int contextLength, SteeringPlan plan) {
        return new Session(this, contextLength, plan == null ? SteeringPlan.NONE : plan);
    }

    /**
     * Steps {@code sessions} by one token each in one pass (see {@link DecodeBatch}); a server
     * should keep one {@link DecodeBatch} instead, which keeps its buffers between steps.
     */
    public float[][] decodeBatch(List<Session> sessions, int[] tokens) {
        try (DecodeBatch batch = new DecodeBatch(this)) {
            return batch.decode(sessions, tokens);
        }
    }

    public Session newSession(int contextLength) {
        return newSession(contextLength, SteeringPlan.NONE);
    }

    @Override
    public void close() {
        backend.close();
        store.close();
    }
}

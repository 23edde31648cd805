package dev.rudder.runtime.model;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.io.ModelFiles;
import dev.rudder.runtime.io.TensorStore;
import dev.rudder.runtime.kernel.Kernels;
import dev.rudder.runtime.parallel.WorkerPool;
import dev.rudder.runtime.steer.SteeringPlan;

import java.nio.file.Path;

/**
 * A loaded LLaMA-family model: configuration, memory-mapped weights, kernels and the worker
 * pool. Thread-safe to share; all per-request state lives in a {@link Session}.
 */
public final class Model implements AutoCloseable {
    private final Path directory;
    private final ModelConfig config;
    private final TensorStore store;
    private final ModelWeights weights;
    private final WorkerPool pool;
    private final Kernels kernels;

    private Model(Path directory, ModelConfig config, TensorStore store, ModelWeights weights, WorkerPool pool) {
        this.directory = directory;
        this.config = config;
        this.store = store;
        this.weights = weights;
        this.pool = pool;
        this.kernels = Kernels.get();
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
        if (threads < 1) {
            throw new BadInputException("--threads must be at least 1, got " + threads);
        }
        ModelFiles files = ModelFiles.open(dir);
        Path resolved = files.path();
        ModelConfig config = files.config();
        TensorStore store = files.store();
        try {
            ModelWeights weights = new ModelWeights(config, store, transform);
            return new Model(resolved, config, store, weights, new WorkerPool(threads));
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
        return pool.threads();
    }

    public ModelWeights weights() {
        return weights;
    }

    public Kernels kernels() {
        return kernels;
    }

    WorkerPool pool() {
        return pool;
    }

    /** A fresh request: KV cache for {@code contextLength} positions, steered by {@code plan}. */
    public Session newSession(int contextLength, SteeringPlan plan) {
        return new Session(this, contextLength, plan == null ? SteeringPlan.NONE : plan);
    }

    public Session newSession(int contextLength) {
        return newSession(contextLength, SteeringPlan.NONE);
    }

    @Override
    public void close() {
        pool.close();
        store.close();
    }
}

package dev.rudder.runtime.cuda;

import java.lang.foreign.MemorySegment;

/**
 * What the CUDA backend needs from a GPU, on raw device addresses: memory, and queues (CUDA
 * streams) of copies and kernel launches. {@link CudaGpu} is the real one; tests drive the
 * backend's host-side logic through a recording fake, without a GPU.
 */
public interface Gpu extends AutoCloseable {

    /** Allocates {@code bytes} of device memory; {@code what} names it in errors. */
    long allocate(long bytes, String what);

    void free(long address);

    /** A new in-order queue of work (a CUDA stream). */
    Queue newQueue();

    /** Streaming multiprocessors (sizes split-KV attention). */
    int multiprocessors();

    /** One line, e.g. {@code "cuda:0 NVIDIA H200 (compute 9.0, 132 SMs, 143771 MiB)"}. */
    String describe();

    @Override
    void close();

    /** An in-order queue: every operation runs after the ones queued before it. */
    interface Queue extends AutoCloseable {
        /** Host to device; {@code src} may be reused as soon as this returns. */
        void upload(MemorySegment src, long dst);

        /** Device to host, after all queued work; returns when {@code dst} holds the data. */
        void download(long src, MemorySegment dst);

        /** Device to device, {@code bytes} bytes. */
        void copy(long dst, long src, long bytes);

        /** Fills {@code count} 32-bit words at {@code dst} with {@code value}. */
        void fill32(long dst, long count, int value);

        /** Launches {@code kernel}; the arguments must match its {@link Kernel#signature()}. */
        void launch(Kernel kernel, LaunchGeometry g, KernelArgs args);

        /** Waits for everything queued (and reports asynchronous errors). */
        void synchronize();

        @Override
        void close();
    }
}

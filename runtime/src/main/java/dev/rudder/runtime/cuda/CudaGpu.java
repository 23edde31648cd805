package dev.rudder.runtime.cuda;

import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A {@link Gpu} on a real device: its primary context, the kernel modules loaded from the
 * committed PTX (the driver compiles them for this GPU once, at open), allocations by address.
 */
public final class CudaGpu implements Gpu {
    private final CudaDevice device;
    private final Map<String, CudaModule> modules = new HashMap<>();
    private final EnumMap<Kernel, CudaFunction> functions = new EnumMap<>(Kernel.class);
    private final Map<Long, DeviceBuffer> buffers = new HashMap<>();
    // streams still open: destroyed before the context is released, since the driver crashes the
    // process (not an error code) when a stream of a destroyed context is destroyed later, as a
    // Cleaner does for activations nobody closed
    private final Set<StreamQueue> queues = new LinkedHashSet<>();
    private boolean closed;

    private CudaGpu(CudaDevice device) {
        this.device = device;
        try {
            for (String m : Kernel.MODULES) {
                modules.put(m, device.loadModule(m, PtxSource.read(m)));
            }
            for (Kernel k : Kernel.values()) {
                functions.put(k, modules.get(k.module()).function(k.entry()));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Opens GPU {@code ordinal} (a {@link CudaException} saying why when there is none). */
    public static CudaGpu open(int ordinal) {
        CudaDevice d = CudaDriver.require().open(ordinal);
        try {
            return new CudaGpu(d);
        } catch (RuntimeException e) {
            d.close();
            throw e;
        }
    }

    public CudaDevice device() {
        return device;
    }

    /**
     * Allocates device memory. Sessions have no close, so their KV caches are freed by a Cleaner
     * once unreachable: when the GPU is out of memory, this asks for a garbage collection and
     * retries before giving up.
     */
    @Override
    public long allocate(long bytes, String what) {
        for (int attempt = 0; ; attempt++) {
            try {
                synchronized (this) {
                    DeviceBuffer b = device.allocate(bytes);
                    buffers.put(b.address(), b);
                    return b.address();
                }
            } catch (CudaException e) {
                if (!"CUDA_ERROR_OUT_OF_MEMORY".equals(e.errorName()) || attempt == 3) {
                    throw new CudaException("cannot allocate " + what + " (" + bytes + " bytes) on " + device.name() + ": "
                            + e.getMessage());
                }
                System.gc();
                try {
                    Thread.sleep(100L << attempt);   // let the Cleaner free what the collection found
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    /** Frees an allocation; addresses this GPU no longer knows (freed when it closed) are ignored. */
    @Override
    public synchronized void free(long address) {
        DeviceBuffer b = buffers.remove(address);
        if (b != null) {
            b.close();
        }
    }

    @Override
    public synchronized Queue newQueue() {
        if (closed) {
            throw new IllegalStateException("the GPU " + device.name() + " was closed");
        }
        StreamQueue q = new StreamQueue(device.newStream());
        queues.add(q);
        return q;
    }

    @Override
    public int multiprocessors() {
        return device.multiprocessors();
    }

    @Override
    public String describe() {
        return device.describe();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (StreamQueue q : queues) {
            q.closeStream();
        }
        queues.clear();
        for (DeviceBuffer b : buffers.values()) {
            b.close();
        }
        buffers.clear();
        for (CudaModule m : modules.values()) {
            m.close();
        }
        modules.clear();
        device.close();
    }

    /**
     * Whether new queues replay repeated steps as CUDA graphs (default on; off with the environment
     * variable RUDDER_CUDA_GRAPHS=0 or the system property rudder.cuda.graphs=false).
     */
    private static volatile boolean graphs = !"0".equals(System.getenv("RUDDER_CUDA_GRAPHS"))
            && Boolean.parseBoolean(System.getProperty("rudder.cuda.graphs", "true"));

    /** Steps captured as graphs, replayed, and held for a graph but then different (since the JVM started). */
    public static String graphCounts() {
        return "graphs: " + StepReplay.CAPTURED.sum() + " captured, " + StepReplay.REPLAYED.sum() + " steps replayed, "
                + StepReplay.DIFFERED.sum() + " held steps that differed";
    }

    /** Turns graph replay on or off for queues made from now on (the GPU check compares both). */
    public static void useGraphs(boolean on) {
        graphs = on;
    }

    /**
     * A {@link Queue} on one CUDA stream; makes the device's context current on the calling thread
     * first. Repeated steps are replayed as CUDA graphs ({@link StepReplay}).
     */
    private final class StreamQueue implements Queue {
        private final CudaStream stream;
        private final CudaDriver cu = device.driver();
        private KernelProfile.Recorder profile;   // created on the first launch while profiling
        private final java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared();
        private final KernelArgs captureArgs = new KernelArgs(arena);
        private final StepReplay replay;

        StreamQueue(CudaStream stream) {
            this.stream = stream;
            this.replay = new StepReplay(direct, new KernelArgs(arena), graphs && cu.hasGraphs());
        }

        private void bind() {
            device.bind();
        }

        /** The stream itself, and graphs captured from it: where {@link StepReplay} issues. */
        private final StepReplay.Device direct = new StepReplay.Device() {
            @Override
            public void launch(Kernel kernel, LaunchGeometry g, KernelArgs args) {
                stream.launch(functions.get(kernel), g, args);
            }

            @Override
            public void copy(long dst, long src, long bytes) {
                copyNow(dst, src, bytes);
            }

            @Override
            public void fill32(long dst, long count, int value) {
                fillNow(dst, count, value);
            }

            @Override
            public StepReplay.Graph capture(LaunchRecord step) {
                return CudaGraph.capture(stream, () -> step.issue(captureArgs, this));
            }
        };

        // ---- Queue

        @Override
        public void upload(MemorySegment src, long dst) {
            bind();
            replay.hostWork();
            try {
                cu.check("cuMemcpyHtoDAsync_v2", (int) cu.cuMemcpyHtoDAsync.invokeExact(dst, src, src.byteSize(), stream.handle()));
            } catch (Throwable t) {
                throw CudaDriver.rethrow(t);
            }
            if (!src.isNative() || src.isMapped()) {
                stream.synchronize();   // heap or mapped memory: finish before the caller may change or unmap it
            }
        }

        @Override
        public void download(long src, MemorySegment dst) {
            bind();
            replay.endStep();
            try {
                cu.check("cuMemcpyDtoHAsync_v2", (int) cu.cuMemcpyDtoHAsync.invokeExact(dst, src, dst.byteSize(), stream.handle()));
            } catch (Throwable t) {
                throw CudaDriver.rethrow(t);
            }
            stream.synchronize();
            collectProfile();
        }

        @Override
        public void copy(long dst, long src, long bytes) {
            bind();
            if (KernelProfile.on()) {
                replay.hostWork();
                copyNow(dst, src, bytes);
            } else {
                replay.copy(dst, src, bytes);
            }
        }

        private void copyNow(long dst, long src, long bytes) {
            try {
                cu.check("cuMemcpyDtoDAsync_v2", (int) cu.cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream.handle()));
            } catch (Throwable t) {
                throw CudaDriver.rethrow(t);
            }
        }

        @Override
        public void fill32(long dst, long count, int value) {
            bind();
            if (KernelProfile.on()) {
                replay.hostWork();
                fillNow(dst, count, value);
            } else {
                replay.fill32(dst, count, value);
            }
        }

        private void fillNow(long dst, long count, int value) {
            try {
                cu.check("cuMemsetD32Async", (int) cu.cuMemsetD32Async.invokeExact(dst, value, count, stream.handle()));
            } catch (Throwable t) {
                throw CudaDriver.rethrow(t);
            }
        }

        @Override
        public void launch(Kernel kernel, LaunchGeometry g, KernelArgs args) {
            if (!args.matches(kernel.signature())) {
                throw new IllegalArgumentException(kernel.entry() + " takes (" + kernel.signature() + "), got (" + args.signature() + ")");
            }
            bind();
            if (KernelProfile.on()) {
                replay.hostWork();   // timed one by one: no graph
                if (profile == null) {
                    profile = new KernelProfile.Recorder(device);
                }
                profile.bracket(kernel.entry(), stream, () -> stream.launch(functions.get(kernel), g, args));
                return;
            }
            replay.launch(kernel, g, args);
        }

        private void closeStream() {
            if (profile != null) {
                profile.close();
            }
            replay.close();
            stream.close();
            arena.close();
        }

        private void collectProfile() {
            if (profile != null) {
                profile.collect();
            }
        }

        @Override
        public void synchronize() {
            bind();
            replay.endStep();
            stream.synchronize();
            collectProfile();
        }

        @Override
        public void close() {
            synchronized (CudaGpu.this) {
                if (queues.remove(this)) {   // else closed with the GPU already
                    closeStream();
                }
            }
        }
    }
}

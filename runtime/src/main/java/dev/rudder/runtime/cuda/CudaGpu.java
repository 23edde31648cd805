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

    private static final java.util.concurrent.atomic.LongAdder CAPTURED = new java.util.concurrent.atomic.LongAdder();
    private static final java.util.concurrent.atomic.LongAdder REPLAYED = new java.util.concurrent.atomic.LongAdder();
    private static final java.util.concurrent.atomic.LongAdder DIFFERED = new java.util.concurrent.atomic.LongAdder();

    /** Steps captured as graphs, replayed, and held for a graph but then different (since the JVM started). */
    public static String graphCounts() {
        return "graphs: " + CAPTURED.sum() + " captured, " + REPLAYED.sum() + " steps replayed, "
                + DIFFERED.sum() + " held steps that differed";
    }

    /** Turns graph replay on or off for queues made from now on (the GPU check compares both). */
    public static void useGraphs(boolean on) {
        graphs = on;
    }

    /**
     * A {@link Queue} on one CUDA stream; makes the device's context current on the calling thread
     * first. A step is what the queue issues between two waits (a decode step ends by downloading
     * its logits). When a step repeats the last one launch for launch (same kernels, geometries
     * and arguments: decode steps do, their positions live in the device's row table), it is
     * captured into a {@link CudaGraph}, and later steps are held until their wait and replayed
     * with one launch when they match it again, else issued one by one as before.
     */
    private final class StreamQueue implements Queue {
        private final CudaStream stream;
        private final CudaDriver cu = device.driver();
        private KernelProfile.Recorder profile;   // created on the first launch while profiling
        private final LaunchRecord step = new LaunchRecord();       // launches since the last wait
        private final LaunchRecord previous = new LaunchRecord();   // the step before
        private final LaunchRecord graphed = new LaunchRecord();    // what `graph` replays
        private final java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared();
        private final KernelArgs reissue = new KernelArgs(arena);
        private CudaGraph graph;
        private boolean holding;     // this step's launches are held for the graph, not yet issued
        private boolean mixed;       // this step queued other work between its launches: not a graph
        private boolean graphsOff = !graphs || !cu.hasGraphs();

        StreamQueue(CudaStream stream) {
            this.stream = stream;
        }

        private void bind() {
            device.bind();
        }

        /** Before work a graph cannot hold (host copies): held operations go first, and the step is no graph. */
        private void otherWork() {
            if (step.size() > 0) {
                if (holding) {
                    issueStep();
                }
                mixed = true;
            }
        }

        /** Whether this operation goes into the step's record: graphs on and not profiling (profiled steps are no graph). */
        private boolean record() {
            if (graphsOff) {
                return false;
            }
            if (KernelProfile.on()) {
                otherWork();
                return false;
            }
            return true;
        }

        private final LaunchRecord.Issuer direct = new LaunchRecord.Issuer() {
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
        };

        private void issueStep() {
            holding = false;
            step.issue(reissue, direct);
        }

        /** At a wait: replays or issues a held step, captures a step that repeated, starts the next step. */
        private void endStep() {
            if (graphsOff || step.size() == 0) {
                return;
            }
            try {
                if (holding) {
                    if (step.sameAs(graphed)) {
                        graph.launch(stream);
                        holding = false;   // after the launch: if it throws, the step is issued one by one below
                        REPLAYED.increment();
                    } else {
                        issueStep();
                        dropGraph();
                        DIFFERED.increment();
                    }
                } else if (!mixed && step.sameAs(previous)) {
                    dropGraph();
                    graph = CudaGraph.capture(stream, () -> step.issue(reissue, direct));
                    graphed.copyFrom(step);
                    holding = false;
                    nextHeld = true;
                    CAPTURED.increment();
                }
            } catch (CudaException e) {
                graphsOff = true;   // this driver or GPU will not do it: launch one by one from now on
                if (holding) {
                    issueStep();
                }
                dropGraph();
            }
            previous.copyFrom(step);
            step.clear();
            mixed = false;
            holding = nextHeld && graph != null;
            nextHeld = holding;
        }

        private boolean nextHeld;    // hold the next step's launches: the last one was replayed or captured

        private void dropGraph() {
            if (graph != null) {
                graph.close();
                graph = null;
            }
            nextHeld = false;
        }

        @Override
        public void upload(MemorySegment src, long dst) {
            bind();
            otherWork();
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
            endStep();
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
            if (record()) {
                step.addCopy(dst, src, bytes);
                if (holding) {
                    return;
                }
            }
            copyNow(dst, src, bytes);
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
            if (record()) {
                step.addFill(dst, count, value);
                if (holding) {
                    return;
                }
            }
            fillNow(dst, count, value);
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
                otherWork();   // timed one by one: no graph
                mixed = true;
                if (profile == null) {
                    profile = new KernelProfile.Recorder(device);
                }
                profile.bracket(kernel.entry(), stream, () -> stream.launch(functions.get(kernel), g, args));
                return;
            }
            if (record()) {
                step.add(kernel, g, args);
                if (holding) {
                    return;
                }
            }
            stream.launch(functions.get(kernel), g, args);
        }

        private void closeStream() {
            if (profile != null) {
                profile.close();
            }
            dropGraph();
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
            endStep();
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

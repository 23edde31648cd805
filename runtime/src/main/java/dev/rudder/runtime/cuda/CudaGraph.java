package dev.rudder.runtime.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;

/**
 * An instantiated CUDA graph: kernel launches captured from a stream once and replayed with one
 * {@code cuGraphLaunch}. A decode step issues ~9 launches per layer; from Java each costs the
 * host ~4.8 us (measured on an H200), which bounds small models' decode by the host, not the GPU.
 * Replayed on the stream it was captured from.
 */
final class CudaGraph implements StepReplay.Graph {
    private static final int CAPTURE_MODE_RELAXED = 2;   // other threads may allocate meanwhile

    private final CudaDriver cu;
    private final CudaStream stream;
    private final MemorySegment graph;
    private final MemorySegment exec;
    private boolean closed;

    private CudaGraph(CudaStream stream, MemorySegment graph, MemorySegment exec) {
        this.cu = stream.device().driver();
        this.stream = stream;
        this.graph = graph;
        this.exec = exec;
    }

    /**
     * Captures what {@code issue} queues on {@code stream} (nothing runs then) and instantiates it.
     * The stream leaves capture mode whatever happens.
     */
    static CudaGraph capture(CudaStream stream, Runnable issue) {
        CudaDriver cu = stream.device().driver();
        try (Arena a = Arena.ofConfined()) {
            cu.check("cuStreamBeginCapture_v2", (int) cu.cuStreamBeginCapture.invokeExact(stream.handle(), CAPTURE_MODE_RELAXED));
            MemorySegment out = a.allocate(ADDRESS);
            RuntimeException failed = null;
            try {
                issue.run();
            } catch (RuntimeException e) {
                failed = e;
            }
            int r = (int) cu.cuStreamEndCapture.invokeExact(stream.handle(), out);
            MemorySegment graph = out.get(ADDRESS, 0);
            if (failed != null || r != 0) {
                if (r == 0 && !graph.equals(MemorySegment.NULL)) {
                    cu.call("cuGraphDestroy", cu.cuGraphDestroy, graph);
                }
                if (failed != null) {
                    throw failed;
                }
                cu.check("cuStreamEndCapture", r);
            }
            int i = (int) cu.cuGraphInstantiate.invokeExact(out, graph, 0L);
            if (i != 0) {
                cu.call("cuGraphDestroy", cu.cuGraphDestroy, graph);
                cu.check("cuGraphInstantiateWithFlags", i);
            }
            return new CudaGraph(stream, graph, out.get(ADDRESS, 0));
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /** Queues the whole graph on its stream. */
    @Override
    public void launch() {
        try {
            cu.check("cuGraphLaunch", (int) cu.cuGraphLaunch.invokeExact(exec, stream.handle()));
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        cu.call("cuGraphExecDestroy", cu.cuGraphExecDestroy, exec);
        cu.call("cuGraphDestroy", cu.cuGraphDestroy, graph);
    }
}

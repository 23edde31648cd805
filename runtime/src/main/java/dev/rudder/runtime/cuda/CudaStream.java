package dev.rudder.runtime.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;

/** A CUDA stream: kernel launches and async copies on it run in order. */
public final class CudaStream implements AutoCloseable {
    private static final int CU_STREAM_NON_BLOCKING = 1;

    private final CudaDevice device;
    private final CudaDriver cu;
    private final MemorySegment handle;
    private boolean closed;

    CudaStream(CudaDevice device) {
        this.device = device;
        this.cu = device.driver();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            cu.check("cuStreamCreate", (int) cu.cuStreamCreate.invokeExact(out, CU_STREAM_NON_BLOCKING));
            handle = out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    MemorySegment handle() {
        return handle;
    }

    public CudaDevice device() {
        return device;
    }

    /** Waits until everything queued on this stream has finished (and reports its errors). */
    public void synchronize() {
        cu.call("cuStreamSynchronize", cu.cuStreamSynchronize, handle);
    }

    /** Queues {@code fn} with the arguments packed in {@code args}. */
    public void launch(CudaFunction fn, LaunchGeometry g, KernelArgs args) {
        try {
            int r = (int) cu.cuLaunchKernel.invokeExact(fn.handle(), g.gridX(), g.gridY(), g.gridZ(),
                    g.blockX(), g.blockY(), g.blockZ(), g.sharedBytes(), handle, args.pointerArray(), MemorySegment.NULL);
            if (r != 0) {
                cu.check("cuLaunchKernel(" + fn.name() + ", " + g + ")", r);
            }
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
        device.bind();
        cu.call("cuStreamDestroy_v2", cu.cuStreamDestroy, handle);
    }
}

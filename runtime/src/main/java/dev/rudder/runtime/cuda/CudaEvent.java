package dev.rudder.runtime.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

/** A CUDA event: a point in a stream, for GPU-side timing ({@link #millisSince}). */
public final class CudaEvent implements AutoCloseable {
    private final CudaDevice device;
    private final CudaDriver cu;
    private final MemorySegment handle;
    private boolean closed;

    CudaEvent(CudaDevice device) {
        this.device = device;
        this.cu = device.driver();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            cu.check("cuEventCreate", (int) cu.cuEventCreate.invokeExact(out, 0));
            handle = out.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    public void record(CudaStream stream) {
        try {
            cu.check("cuEventRecord", (int) cu.cuEventRecord.invokeExact(handle, stream.handle()));
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    public void synchronize() {
        cu.call("cuEventSynchronize", cu.cuEventSynchronize, handle);
    }

    /** Milliseconds of GPU time from {@code start} to this event (both recorded and complete). */
    public float millisSince(CudaEvent start) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_FLOAT);
            cu.check("cuEventElapsedTime", (int) cu.cuEventElapsedTime.invokeExact(out, start.handle, handle));
            return out.get(JAVA_FLOAT, 0);
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
        cu.call("cuEventDestroy_v2", cu.cuEventDestroy, handle);
    }
}

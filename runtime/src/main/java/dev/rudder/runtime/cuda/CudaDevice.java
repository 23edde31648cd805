package dev.rudder.runtime.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One GPU and its primary context (the context the runtime API would use too). Every method
 * that touches the GPU first makes the context current on the calling thread, so sessions may
 * be driven from any thread (one thread at a time per session). Closing releases the context.
 */
public final class CudaDevice implements AutoCloseable {
    // CUdevice_attribute values (cuda.h)
    static final int ATTR_MULTIPROCESSOR_COUNT = 16;
    static final int ATTR_MEMORY_CLOCK_RATE = 36;        // kHz
    static final int ATTR_GLOBAL_MEMORY_BUS_WIDTH = 37;  // bits
    static final int ATTR_COMPUTE_CAPABILITY_MAJOR = 75;
    static final int ATTR_COMPUTE_CAPABILITY_MINOR = 76;

    /** The context this class last made current on each thread. */
    private static final ThreadLocal<MemorySegment> CURRENT = new ThreadLocal<>();

    private final CudaDriver cu;
    private final int ordinal;
    private final MemorySegment context;
    private final String name;
    private boolean closed;

    CudaDevice(CudaDriver cu, int ordinal) {
        this.cu = cu;
        this.ordinal = ordinal;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment dev = a.allocate(JAVA_INT);
            cu.check("cuDeviceGet", (int) cu.cuDeviceGet.invokeExact(dev, ordinal));
            if (dev.get(JAVA_INT, 0) != ordinal) {
                throw new CudaException("cuDeviceGet(" + ordinal + ") returned device " + dev.get(JAVA_INT, 0));
            }
            MemorySegment buf = a.allocate(256);
            cu.check("cuDeviceGetName", (int) cu.cuDeviceGetName.invokeExact(buf, 256, ordinal));
            name = buf.getString(0, StandardCharsets.UTF_8);
            MemorySegment ctx = a.allocate(ADDRESS);
            cu.check("cuDevicePrimaryCtxRetain", (int) cu.cuDevicePrimaryCtxRetain.invokeExact(ctx, ordinal));
            context = ctx.get(ADDRESS, 0);
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
        bind();
    }

    CudaDriver driver() {
        return cu;
    }

    public int ordinal() {
        return ordinal;
    }

    public String name() {
        return name;
    }

    /**
     * Makes this device's primary context current on the calling thread (a driver call only when
     * another context, or none, is current there: several GPUs may be driven from one thread).
     */
    public void bind() {
        if (CURRENT.get() != context) {
            cu.call("cuCtxSetCurrent", cu.cuCtxSetCurrent, context);
            CURRENT.set(context);
        }
    }

    public int attribute(int attribute) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            cu.check("cuDeviceGetAttribute(" + attribute + ")", (int) cu.cuDeviceGetAttribute.invokeExact(out, attribute, ordinal));
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /** e.g. 90 for compute capability 9.0 (Hopper), 80 for Ampere A100. */
    public int computeCapability() {
        return attribute(ATTR_COMPUTE_CAPABILITY_MAJOR) * 10 + attribute(ATTR_COMPUTE_CAPABILITY_MINOR);
    }

    public int multiprocessors() {
        return attribute(ATTR_MULTIPROCESSOR_COUNT);
    }

    public long totalMemory() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            cu.check("cuDeviceTotalMem_v2", (int) cu.cuDeviceTotalMem.invokeExact(out, ordinal));
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /** Free device memory now (cuMemGetInfo). */
    public long freeMemory() {
        bind();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(JAVA_LONG);
            MemorySegment total = a.allocate(JAVA_LONG);
            cu.check("cuMemGetInfo_v2", (int) cu.cuMemGetInfo.invokeExact(free, total));
            return free.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /**
     * Peak memory bandwidth in bytes/s from the memory clock and bus width (double data rate),
     * or 0 when the driver does not report them.
     */
    public double nominalBandwidth() {
        try {
            long khz = attribute(ATTR_MEMORY_CLOCK_RATE);
            long bits = attribute(ATTR_GLOBAL_MEMORY_BUS_WIDTH);
            return 2.0 * khz * 1000.0 * bits / 8.0;
        } catch (CudaException e) {
            return 0;
        }
    }

    /** Allocates {@code bytes} of device memory (uninitialised). */
    public DeviceBuffer allocate(long bytes) {
        bind();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            int r = (int) cu.cuMemAlloc.invokeExact(out, Math.max(bytes, 4L));
            cu.check("cuMemAlloc_v2(" + bytes + " bytes)", r);
            return new DeviceBuffer(this, out.get(JAVA_LONG, 0), bytes);
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /** Loads a module from PTX text; the driver compiles it for this GPU (errors carry its log). */
    public CudaModule loadModule(String name, String ptx) {
        bind();
        return CudaModule.load(this, name, ptx);
    }

    public CudaStream newStream() {
        bind();
        return new CudaStream(this);
    }

    public CudaEvent newEvent() {
        bind();
        return new CudaEvent(this);
    }

    public void synchronize() {
        bind();
        try {
            cu.check("cuCtxSynchronize", (int) cu.cuCtxSynchronize.invokeExact());
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    public String describe() {
        int cc = computeCapability();
        return "cuda:" + ordinal + " " + name + " (compute " + cc / 10 + "." + cc % 10 + ", "
                + multiprocessors() + " SMs, " + totalMemory() / (1L << 20) + " MiB)";
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            cu.check("cuDevicePrimaryCtxRelease_v2", (int) cu.cuDevicePrimaryCtxRelease.invokeExact(ordinal));
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }
}

package dev.rudder.runtime.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A module loaded from PTX text with {@code cuModuleLoadDataEx}: the driver JIT-compiles it for
 * the GPU at hand. When that fails, the exception carries the JIT's error log.
 */
public final class CudaModule implements AutoCloseable {
    // CUjit_option values (cuda.h)
    private static final int CU_JIT_ERROR_LOG_BUFFER = 5;
    private static final int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
    private static final int LOG_BYTES = 8192;

    private final CudaDevice device;
    private final CudaDriver cu;
    private final String name;
    private final MemorySegment handle;
    private boolean closed;

    private CudaModule(CudaDevice device, String name, MemorySegment handle) {
        this.device = device;
        this.cu = device.driver();
        this.name = name;
        this.handle = handle;
    }

    static CudaModule load(CudaDevice device, String name, String ptx) {
        CudaDriver cu = device.driver();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment image = a.allocateFrom(ptx);
            MemorySegment log = a.allocate(LOG_BYTES);
            MemorySegment options = a.allocate(JAVA_INT, 2);
            options.setAtIndex(JAVA_INT, 0, CU_JIT_ERROR_LOG_BUFFER);
            options.setAtIndex(JAVA_INT, 1, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES);
            MemorySegment values = a.allocate(ADDRESS, 2);
            values.setAtIndex(ADDRESS, 0, log);
            values.setAtIndex(ADDRESS, 1, MemorySegment.ofAddress(LOG_BYTES));  // an int passed as void*
            MemorySegment out = a.allocate(ADDRESS);
            int r = (int) cu.cuModuleLoadDataEx.invokeExact(out, image, 2, options, values);
            if (r != 0) {
                String jit = log.getString(0).strip();
                try {
                    cu.check("cuModuleLoadDataEx(" + name + ")", r);
                } catch (CudaException e) {
                    throw jit.isEmpty() ? e : new CudaException(e.getMessage() + "\nPTX JIT log:\n" + jit);
                }
            }
            return new CudaModule(device, name, out.get(ADDRESS, 0));
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    public String name() {
        return name;
    }

    /** The kernel {@code entry} (its extern "C" name). */
    public CudaFunction function(String entry) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            cu.check("cuModuleGetFunction(" + name + ", " + entry + ")",
                    (int) cu.cuModuleGetFunction.invokeExact(out, handle, a.allocateFrom(entry)));
            return new CudaFunction(entry, out.get(ADDRESS, 0));
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
        cu.call("cuModuleUnload", cu.cuModuleUnload, handle);
    }
}

package dev.rudder.runtime.cuda;

import java.lang.foreign.MemorySegment;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

/**
 * A {@link Gpu} on a real device: its primary context, the kernel modules loaded from the
 * committed PTX (the driver compiles them for this GPU once, at open), allocations by address.
 */
public final class CudaGpu implements Gpu {
    private final CudaDevice device;
    private final Map<String, CudaModule> modules = new HashMap<>();
    private final EnumMap<Kernel, CudaFunction> functions = new EnumMap<>(Kernel.class);
    private final Map<Long, DeviceBuffer> buffers = new HashMap<>();

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
    public Queue newQueue() {
        return new StreamQueue(device.newStream());
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

    /** A {@link Queue} on one CUDA stream; makes the device's context current on the calling thread first. */
    private final class StreamQueue implements Queue {
        private final CudaStream stream;
        private final CudaDriver cu = device.driver();

        StreamQueue(CudaStream stream) {
            this.stream = stream;
        }

        private void bind() {
            device.bind();
        }

        @Override
        public void upload(MemorySegment src, long dst) {
            bind();
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
            try {
                cu.check("cuMemcpyDtoHAsync_v2", (int) cu.cuMemcpyDtoHAsync.invokeExact(dst, src, dst.byteSize(), stream.handle()));
            } catch (Throwable t) {
                throw CudaDriver.rethrow(t);
            }
            stream.synchronize();
        }

        @Override
        public void copy(long dst, long src, long bytes) {
            bind();
            try {
                cu.check("cuMemcpyDtoDAsync_v2", (int) cu.cuMemcpyDtoDAsync.invokeExact(dst, src, bytes, stream.handle()));
            } catch (Throwable t) {
                throw CudaDriver.rethrow(t);
            }
        }

        @Override
        public void fill32(long dst, long count, int value) {
            bind();
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
            stream.launch(functions.get(kernel), g, args);
        }

        @Override
        public void synchronize() {
            bind();
            stream.synchronize();
        }

        @Override
        public void close() {
            stream.close();
        }
    }
}

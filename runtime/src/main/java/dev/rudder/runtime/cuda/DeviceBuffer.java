package dev.rudder.runtime.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A block of device memory ({@code cuMemAlloc_v2}) and the copies in and out of it. Offsets and
 * sizes are in bytes. The synchronous copies wait for the copy; the {@code Async} ones are
 * ordered on a stream and the host memory must stay valid (and unchanged) until the stream
 * reaches them.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final CudaDevice device;
    private final CudaDriver cu;
    private final long address;
    private final long bytes;
    private boolean freed;

    DeviceBuffer(CudaDevice device, long address, long bytes) {
        this.device = device;
        this.cu = device.driver();
        this.address = address;
        this.bytes = bytes;
    }

    /** The CUdeviceptr. */
    public long address() {
        return address;
    }

    /** Address of byte {@code offset}, bounds-checked. */
    public long at(long offset) {
        if (offset < 0 || offset > bytes) {
            throw new IndexOutOfBoundsException("offset " + offset + " outside a buffer of " + bytes + " bytes");
        }
        return address + offset;
    }

    public long bytes() {
        return bytes;
    }

    private void range(long offset, long n) {
        if (offset < 0 || n < 0 || offset + n > bytes) {
            throw new IndexOutOfBoundsException("copy of " + n + " bytes at " + offset + " outside a buffer of " + bytes + " bytes");
        }
    }

    /** Host -> device, synchronous. */
    public void copyFrom(MemorySegment src, long offset) {
        range(offset, src.byteSize());
        device.bind();
        try {
            cu.check("cuMemcpyHtoD_v2", (int) cu.cuMemcpyHtoD.invokeExact(address + offset, src, src.byteSize()));
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /** Device -> host, synchronous. */
    public void copyTo(long offset, MemorySegment dst) {
        range(offset, dst.byteSize());
        device.bind();
        try {
            cu.check("cuMemcpyDtoH_v2", (int) cu.cuMemcpyDtoH.invokeExact(dst, address + offset, dst.byteSize()));
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /** Host -> device, ordered on {@code stream}. */
    public void copyFromAsync(MemorySegment src, long offset, CudaStream stream) {
        range(offset, src.byteSize());
        try {
            cu.check("cuMemcpyHtoDAsync_v2", (int) cu.cuMemcpyHtoDAsync.invokeExact(address + offset, src, src.byteSize(), stream.handle()));
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /** Device -> host, ordered on {@code stream}. */
    public void copyToAsync(long offset, MemorySegment dst, CudaStream stream) {
        range(offset, dst.byteSize());
        try {
            cu.check("cuMemcpyDtoHAsync_v2", (int) cu.cuMemcpyDtoHAsync.invokeExact(dst, address + offset, dst.byteSize(), stream.handle()));
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /** Device -> device, {@code n} bytes from {@code src + srcOffset} to {@code this + offset}, on a stream. */
    public void copyFromDeviceAsync(DeviceBuffer src, long srcOffset, long offset, long n, CudaStream stream) {
        range(offset, n);
        src.range(srcOffset, n);
        try {
            cu.check("cuMemcpyDtoDAsync_v2", (int) cu.cuMemcpyDtoDAsync.invokeExact(address + offset, src.address + srcOffset, n, stream.handle()));
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /** Fills {@code count} 32-bit words from byte {@code offset} with {@code value}, on a stream. */
    public void fill32Async(long offset, long count, int value, CudaStream stream) {
        range(offset, count * 4);
        try {
            cu.check("cuMemsetD32Async", (int) cu.cuMemsetD32Async.invokeExact(address + offset, value, count, stream.handle()));
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }

    /** Uploads floats (synchronous). */
    public void upload(float[] values, long offset) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(JAVA_FLOAT, Math.max(1, values.length));
            MemorySegment.copy(values, 0, s, JAVA_FLOAT, 0, values.length);
            copyFrom(s.asSlice(0, (long) values.length * 4), offset);
        }
    }

    /** Uploads ints (synchronous). */
    public void upload(int[] values, long offset) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(JAVA_INT, Math.max(1, values.length));
            MemorySegment.copy(values, 0, s, JAVA_INT, 0, values.length);
            copyFrom(s.asSlice(0, (long) values.length * 4), offset);
        }
    }

    /** Downloads {@code out.length} floats from byte {@code offset} (synchronous). */
    public void download(long offset, float[] out) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(JAVA_FLOAT, Math.max(1, out.length));
            copyTo(offset, s.asSlice(0, (long) out.length * 4));
            MemorySegment.copy(s, JAVA_FLOAT, 0, out, 0, out.length);
        }
    }

    @Override
    public void close() {
        if (freed) {
            return;
        }
        freed = true;
        device.bind();
        try {
            cu.check("cuMemFree_v2", (int) cu.cuMemFree.invokeExact(address));
        } catch (Throwable t) {
            throw CudaDriver.rethrow(t);
        }
    }
}

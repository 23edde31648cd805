package dev.rudder.bench.gpu;

import dev.rudder.runtime.cuda.CudaDevice;
import dev.rudder.runtime.cuda.CudaEvent;
import dev.rudder.runtime.cuda.CudaStream;
import dev.rudder.runtime.cuda.DeviceBuffer;

/** Achievable device memory bandwidth: a large device-to-device copy reads and writes every byte once. */
final class Bandwidth {
    private Bandwidth() {
    }

    /** Bytes per second moved (read + written) by cuMemcpyDtoD of 1 GiB, best of 5. */
    static double deviceCopy(CudaDevice dev) {
        long bytes = 1L << 30;
        try (DeviceBuffer a = dev.allocate(bytes); DeviceBuffer b = dev.allocate(bytes);
             CudaStream s = dev.newStream(); CudaEvent start = dev.newEvent(); CudaEvent end = dev.newEvent()) {
            b.copyFromDeviceAsync(a, 0, 0, bytes, s);   // warm-up
            s.synchronize();
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 5; i++) {
                start.record(s);
                b.copyFromDeviceAsync(a, 0, 0, bytes, s);
                end.record(s);
                end.synchronize();
                best = Math.min(best, end.millisSince(start) / 1e3);
            }
            return 2.0 * bytes / best;
        }
    }
}

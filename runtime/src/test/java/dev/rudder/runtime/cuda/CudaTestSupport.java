package dev.rudder.runtime.cuda;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Skips a test, with the reason, where there is no usable NVIDIA driver and GPU (CI, most laptops). */
final class CudaTestSupport {
    private CudaTestSupport() {
    }

    static CudaDevice requireGpu() {
        CudaDriver.Loaded l = CudaDriver.load();
        assumeTrue(l.driver() != null, () -> "CUDA test skipped: " + l.problem());
        int n = l.driver().deviceCount();
        assumeTrue(n > 0, "CUDA test skipped: the NVIDIA driver sees no GPU");
        return l.driver().open(0);
    }
}

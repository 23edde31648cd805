package dev.rudder.runtime.kernel;

/** Whether the incubating Vector API can be used, and its kernels, loaded only if so. */
public final class VectorSupport {
    private VectorSupport() {
    }

    public static boolean available() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    static Kernels vectorKernels() {
        // TODO(kernels): VectorKernels; until then the scalar reference
        return new ScalarKernels();
    }
}

package dev.rudder.runtime.kernel;

/** Chooses the kernel implementation once, at class initialisation. */
final class KernelSelector {
    static final Kernels SELECTED = select();

    private KernelSelector() {
    }

    private static Kernels select() {
        if (Boolean.getBoolean("rudder.scalar")) {
            return new ScalarKernels();
        }
        if (!VectorSupport.available()) {
            System.err.println("rudder: warning: jdk.incubator.vector is not readable; using scalar kernels "
                    + "(start java with --add-modules jdk.incubator.vector for SIMD speed)");
            return new ScalarKernels();
        }
        return VectorSupport.vectorKernels();
    }
}

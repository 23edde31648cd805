package dev.rudder.runtime.kernel;

/**
 * Whether the incubating Vector API can be used, and its kernels, loaded only if so.
 * Nothing here references {@code jdk.incubator.vector} classes directly, so this class (and the
 * scalar fallbacks that consult it) load fine when the module is absent.
 */
public final class VectorSupport {
    private static final boolean AVAILABLE = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    private static final boolean USE_VECTOR = AVAILABLE && !Boolean.getBoolean("rudder.scalar");

    private VectorSupport() {
    }

    /** True when {@code jdk.incubator.vector} is readable (java started with --add-modules). */
    public static boolean available() {
        return AVAILABLE;
    }

    /**
     * True when the Vector API paths should be used: the module is readable and
     * {@code -Drudder.scalar=true} was not given. Weight matrices consult this too.
     */
    public static boolean useVector() {
        return USE_VECTOR;
    }

    static Kernels vectorKernels() {
        try {
            return (Kernels) Class.forName("dev.rudder.runtime.kernel.VectorKernels")
                    .getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            System.err.println("rudder: warning: Vector API kernels unavailable (" + e + "); using scalar kernels");
            return new ScalarKernels();
        }
    }
}

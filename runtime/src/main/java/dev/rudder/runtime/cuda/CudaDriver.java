package dev.rudder.runtime.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The CUDA driver API ({@code libcuda.so.1}, shipped with the NVIDIA driver) through
 * {@code java.lang.foreign}: no JNI, no CUDA toolkit. One method handle per driver entry point,
 * under the {@code _v2} names where the driver exports them (the unversioned names are the
 * 32-bit-size legacy ABI). Every call returning a CUresult goes through {@link #check}, which
 * turns a failure into a {@link CudaException} with the driver's error name and text.
 * Opaque handles (CUcontext, CUmodule, ...) are {@link MemorySegment} addresses; device pointers
 * and sizes are {@code long} (CUdeviceptr and size_t are 64-bit).
 *
 * <p>{@link #load()} never throws: it returns the driver or the reason there is none, so that
 * {@code --device auto} can fall back to the CPU with one line saying why.
 */
public final class CudaDriver {
    static final String LIBRARY = "libcuda.so.1";

    private static final Linker LINKER = Linker.nativeLinker();
    private static volatile Loaded loaded;

    /** The driver, or the reason it could not be loaded (exactly one is non-null). */
    public record Loaded(CudaDriver driver, String problem) {
    }

    private final SymbolLookup lib;
    final MethodHandle cuInit;
    final MethodHandle cuDriverGetVersion;
    final MethodHandle cuDeviceGetCount;
    final MethodHandle cuDeviceGet;
    final MethodHandle cuDeviceGetName;
    final MethodHandle cuDeviceGetAttribute;
    final MethodHandle cuDeviceTotalMem;
    final MethodHandle cuDevicePrimaryCtxRetain;
    final MethodHandle cuDevicePrimaryCtxRelease;
    final MethodHandle cuCtxSetCurrent;
    final MethodHandle cuCtxSynchronize;
    final MethodHandle cuMemGetInfo;
    final MethodHandle cuModuleLoadDataEx;
    final MethodHandle cuModuleGetFunction;
    final MethodHandle cuModuleUnload;
    final MethodHandle cuFuncSetAttribute;
    final MethodHandle cuMemAlloc;
    final MethodHandle cuMemFree;
    final MethodHandle cuMemcpyHtoD;
    final MethodHandle cuMemcpyDtoH;
    final MethodHandle cuMemcpyDtoD;
    final MethodHandle cuMemcpyHtoDAsync;
    final MethodHandle cuMemcpyDtoHAsync;
    final MethodHandle cuMemcpyDtoDAsync;
    final MethodHandle cuMemsetD32Async;
    final MethodHandle cuStreamCreate;
    final MethodHandle cuStreamSynchronize;
    final MethodHandle cuStreamDestroy;
    final MethodHandle cuEventCreate;
    final MethodHandle cuEventRecord;
    final MethodHandle cuEventSynchronize;
    final MethodHandle cuEventElapsedTime;
    final MethodHandle cuEventDestroy;
    final MethodHandle cuLaunchKernel;
    // CUDA graphs (decode steps replayed with one launch); null when the driver lacks one of them
    final MethodHandle cuStreamBeginCapture;
    final MethodHandle cuStreamEndCapture;
    final MethodHandle cuGraphInstantiate;
    final MethodHandle cuGraphLaunch;
    final MethodHandle cuGraphExecDestroy;
    final MethodHandle cuGraphDestroy;
    private final MethodHandle cuGetErrorName;
    private final MethodHandle cuGetErrorString;

    private CudaDriver(SymbolLookup lib) {
        this.lib = lib;
        // CUresult is a C enum: int. CUdevice is int. Handles are pointers.
        cuInit = fn("cuInit", JAVA_INT);
        cuDriverGetVersion = fn("cuDriverGetVersion", ADDRESS);
        cuDeviceGetCount = fn("cuDeviceGetCount", ADDRESS);
        cuDeviceGet = fn("cuDeviceGet", ADDRESS, JAVA_INT);
        cuDeviceGetName = fn("cuDeviceGetName", ADDRESS, JAVA_INT, JAVA_INT);
        cuDeviceGetAttribute = fn("cuDeviceGetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        cuDeviceTotalMem = fn("cuDeviceTotalMem_v2", ADDRESS, JAVA_INT);
        cuDevicePrimaryCtxRetain = fn("cuDevicePrimaryCtxRetain", ADDRESS, JAVA_INT);
        cuDevicePrimaryCtxRelease = fn("cuDevicePrimaryCtxRelease_v2", JAVA_INT);
        cuCtxSetCurrent = fn("cuCtxSetCurrent", ADDRESS);
        cuCtxSynchronize = fn("cuCtxSynchronize");
        cuMemGetInfo = fn("cuMemGetInfo_v2", ADDRESS, ADDRESS);
        cuModuleLoadDataEx = fn("cuModuleLoadDataEx", ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        cuModuleGetFunction = fn("cuModuleGetFunction", ADDRESS, ADDRESS, ADDRESS);
        cuModuleUnload = fn("cuModuleUnload", ADDRESS);
        cuFuncSetAttribute = fn("cuFuncSetAttribute", ADDRESS, JAVA_INT, JAVA_INT);
        cuMemAlloc = fn("cuMemAlloc_v2", ADDRESS, JAVA_LONG);
        cuMemFree = fn("cuMemFree_v2", JAVA_LONG);
        cuMemcpyHtoD = fn("cuMemcpyHtoD_v2", JAVA_LONG, ADDRESS, JAVA_LONG);
        cuMemcpyDtoH = fn("cuMemcpyDtoH_v2", ADDRESS, JAVA_LONG, JAVA_LONG);
        cuMemcpyDtoD = fn("cuMemcpyDtoD_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG);
        cuMemcpyHtoDAsync = fn("cuMemcpyHtoDAsync_v2", JAVA_LONG, ADDRESS, JAVA_LONG, ADDRESS);
        cuMemcpyDtoHAsync = fn("cuMemcpyDtoHAsync_v2", ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS);
        cuMemcpyDtoDAsync = fn("cuMemcpyDtoDAsync_v2", JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS);
        cuMemsetD32Async = fn("cuMemsetD32Async", JAVA_LONG, JAVA_INT, JAVA_LONG, ADDRESS);
        cuStreamCreate = fn("cuStreamCreate", ADDRESS, JAVA_INT);
        cuStreamSynchronize = fn("cuStreamSynchronize", ADDRESS);
        cuStreamDestroy = fn("cuStreamDestroy_v2", ADDRESS);
        cuEventCreate = fn("cuEventCreate", ADDRESS, JAVA_INT);
        cuEventRecord = fn("cuEventRecord", ADDRESS, ADDRESS);
        cuEventSynchronize = fn("cuEventSynchronize", ADDRESS);
        cuEventElapsedTime = fn(lib.find("cuEventElapsedTime_v2").isPresent() ? "cuEventElapsedTime_v2" : "cuEventElapsedTime",
                ADDRESS, ADDRESS, ADDRESS);
        cuEventDestroy = fn("cuEventDestroy_v2", ADDRESS);
        cuLaunchKernel = fn("cuLaunchKernel", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        boolean graphs = java.util.stream.Stream.of("cuStreamBeginCapture_v2", "cuStreamEndCapture",
                "cuGraphInstantiateWithFlags", "cuGraphLaunch", "cuGraphExecDestroy", "cuGraphDestroy")
                .allMatch(n -> lib.find(n).isPresent());
        cuStreamBeginCapture = graphs ? fn("cuStreamBeginCapture_v2", ADDRESS, JAVA_INT) : null;
        cuStreamEndCapture = graphs ? fn("cuStreamEndCapture", ADDRESS, ADDRESS) : null;
        cuGraphInstantiate = graphs ? fn("cuGraphInstantiateWithFlags", ADDRESS, ADDRESS, JAVA_LONG) : null;
        cuGraphLaunch = graphs ? fn("cuGraphLaunch", ADDRESS, ADDRESS) : null;
        cuGraphExecDestroy = graphs ? fn("cuGraphExecDestroy", ADDRESS) : null;
        cuGraphDestroy = graphs ? fn("cuGraphDestroy", ADDRESS) : null;
        cuGetErrorName = fn("cuGetErrorName", JAVA_INT, ADDRESS);
        cuGetErrorString = fn("cuGetErrorString", JAVA_INT, ADDRESS);
    }

    private MethodHandle fn(String name, MemoryLayout... args) {
        MemorySegment sym = lib.find(name).orElseThrow(() -> new CudaException(
                LIBRARY + " has no symbol " + name + ": the NVIDIA driver is too old (needs CUDA 12 or newer)"));
        return LINKER.downcallHandle(sym, FunctionDescriptor.of(JAVA_INT, args));
    }

    /**
     * Loads {@code libcuda.so.1} and calls {@code cuInit(0)} once per JVM. Never throws: a
     * missing library or a failing cuInit (no GPU, driver/kernel module mismatch) comes back
     * as {@link Loaded#problem()}.
     */
    public static Loaded load() {
        Loaded l = loaded;
        if (l == null) {
            synchronized (CudaDriver.class) {
                l = loaded;
                if (l == null) {
                    l = loaded = tryLoad();
                }
            }
        }
        return l;
    }

    /** The driver, or a {@link CudaException} with the reason there is none. */
    public static CudaDriver require() {
        Loaded l = load();
        if (l.driver() == null) {
            throw new CudaException(l.problem());
        }
        return l.driver();
    }

    private static Loaded tryLoad() {
        SymbolLookup lib;
        try {
            lib = SymbolLookup.libraryLookup(LIBRARY, Arena.global());
        } catch (IllegalArgumentException e) {
            return new Loaded(null, "no NVIDIA driver (" + LIBRARY + " not found)");
        } catch (IllegalCallerException e) {
            return new Loaded(null, "native access is disabled: run java with --enable-native-access=ALL-UNNAMED");
        }
        try {
            CudaDriver d = new CudaDriver(lib);
            d.check("cuInit", (int) d.cuInit.invokeExact(0));
            return new Loaded(d, null);
        } catch (CudaException e) {
            return new Loaded(null, "NVIDIA driver unusable: " + e.getMessage());
        } catch (Throwable t) {
            return new Loaded(null, "NVIDIA driver unusable: " + t);
        }
    }

    /** Throws a {@link CudaException} naming {@code call} unless {@code result} is CUDA_SUCCESS. */
    void check(String call, int result) {
        if (result != 0) {
            throw new CudaException(call, result, errorText(cuGetErrorName, result, "CUDA_ERROR_" + result),
                    errorText(cuGetErrorString, result, "unknown error"));
        }
    }

    private static String errorText(MethodHandle h, int code, String fallback) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            int r = (int) h.invokeExact(code, out);
            MemorySegment s = out.get(ADDRESS, 0);
            if (r != 0 || s.equals(MemorySegment.NULL)) {
                return fallback;
            }
            return s.reinterpret(4096).getString(0);
        } catch (Throwable t) {
            return fallback;
        }
    }

    /** Rethrows what a downcall threw (only Errors and CudaExceptions can come from check). */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    // ------------------------------------------------------------------ small wrappers

    /** Calls a driver entry point that takes one handle ({@code CUresult f(handle)}) and checks the result. */
    void call(String name, MethodHandle h, MemorySegment handle) {
        try {
            check(name, (int) h.invokeExact(handle));
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** True when the driver has the stream-capture and graph entry points {@link CudaGraph} uses. */
    public boolean hasGraphs() {
        return cuGraphLaunch != null;
    }

    public int driverVersion() {
        return intOut("cuDriverGetVersion", cuDriverGetVersion);
    }

    public int deviceCount() {
        return intOut("cuDeviceGetCount", cuDeviceGetCount);
    }

    private int intOut(String call, MethodHandle h) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_INT);
            check(call, (int) h.invokeExact(out));
            return out.get(JAVA_INT, 0);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Opens device {@code ordinal}: its primary context, made current on the calling thread. */
    public CudaDevice open(int ordinal) {
        int n = deviceCount();
        if (ordinal < 0 || ordinal >= n) {
            throw new CudaException(n == 0 ? "no CUDA GPU found (the NVIDIA driver sees 0 devices)"
                    : "no CUDA device " + ordinal + ": the driver sees " + n + " (cuda:0.." + (n - 1) + ")");
        }
        return new CudaDevice(this, ordinal);
    }
}

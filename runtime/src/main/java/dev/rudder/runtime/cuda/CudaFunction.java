package dev.rudder.runtime.cuda;

import java.lang.foreign.MemorySegment;

/** A kernel entry point of a loaded {@link CudaModule} (a CUfunction). */
public record CudaFunction(String name, MemorySegment handle) {
}

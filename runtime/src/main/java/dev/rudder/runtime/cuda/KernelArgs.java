package dev.rudder.runtime.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The {@code void** kernelParams} array cuLaunchKernel takes: one 8-byte slot per argument
 * holding its value, and an array of pointers to the slots, in the kernel's parameter order.
 * Reused for every launch (the driver copies the values when the launch call returns), so a
 * decode step allocates nothing. Not thread-safe: one per stream/session.
 *
 * <pre>
 *   slots    [MAX_ARGS] 8 bytes each: int, float (low 4 bytes) or device pointer
 *   pointers [MAX_ARGS] address of slot i
 * </pre>
 */
public final class KernelArgs {
    public static final int MAX_ARGS = 32;
    private static final long SLOT = 8;

    private final MemorySegment slots;     // [MAX_ARGS] x 8 bytes
    private final MemorySegment pointers;  // [MAX_ARGS] x void*
    private final char[] kinds = new char[MAX_ARGS];   // 'p', 'i' or 'f' per argument (Kernel signatures)
    private int count;

    public KernelArgs(Arena arena) {
        slots = arena.allocate(MAX_ARGS * SLOT, 16);
        pointers = arena.allocate(ADDRESS, MAX_ARGS);
        for (int i = 0; i < MAX_ARGS; i++) {
            pointers.setAtIndex(ADDRESS, i, slots.asSlice(i * SLOT, SLOT));
        }
    }

    /** Starts a new argument list. */
    public KernelArgs clear() {
        count = 0;
        return this;
    }

    /** A device pointer ({@code T*} in the kernel); 0 stands for a null pointer. */
    public KernelArgs ptr(long devicePointer) {
        slots.set(JAVA_LONG, slot('p'), devicePointer);
        return this;
    }

    public KernelArgs ptr(DeviceBuffer b) {
        return ptr(b == null ? 0L : b.address());
    }

    /** An {@code int} parameter. */
    public KernelArgs i32(int v) {
        slots.set(JAVA_INT, slot('i'), v);
        return this;
    }

    /** A {@code float} parameter. */
    public KernelArgs f32(float v) {
        slots.set(JAVA_FLOAT, slot('f'), v);
        return this;
    }

    private long slot(char kind) {
        if (count == MAX_ARGS) {
            throw new IllegalStateException("more than " + MAX_ARGS + " kernel arguments");
        }
        long off = count * SLOT;
        slots.set(JAVA_LONG, off, 0L);   // clear the high bytes under 4-byte values
        kinds[count] = kind;
        count++;
        return off;
    }

    /** True when the packed arguments have exactly the kinds of {@code signature} (no allocation). */
    public boolean matches(String signature) {
        if (signature.length() != count) {
            return false;
        }
        for (int i = 0; i < count; i++) {
            if (kinds[i] != signature.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** The kinds packed so far, e.g. {@code "ppif"} (for error messages). */
    public String signature() {
        return new String(kinds, 0, count);
    }

    public int count() {
        return count;
    }

    /** The {@code void**} to pass to cuLaunchKernel. */
    public MemorySegment pointerArray() {
        return pointers;
    }

    /** Copies the packed values into {@code dst} from {@code off} (a {@link LaunchRecord} keeps them); returns how many. */
    int copyRaw(long[] dst, int off) {
        MemorySegment.copy(slots, JAVA_LONG, 0, dst, off, count);
        return count;
    }

    /** Packs {@code n} values copied by {@link #copyRaw}, to issue a recorded launch again (kinds unchecked). */
    KernelArgs loadRaw(long[] src, int off, int n) {
        MemorySegment.copy(src, off, slots, JAVA_LONG, 0, n);
        java.util.Arrays.fill(kinds, 0, n, '?');
        count = n;
        return this;
    }

    /** The 8 raw bytes of argument {@code i}, little-endian as a long (for tests and debugging). */
    public long rawSlot(int i) {
        return slots.get(JAVA_LONG, i * SLOT);
    }
}

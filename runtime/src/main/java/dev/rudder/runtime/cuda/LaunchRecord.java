package dev.rudder.runtime.cuda;

import java.util.Arrays;

/**
 * The kernel launches of one step (everything a queue issued between two waits), kept so that a
 * step can be compared with the last one and captured into a {@link CudaGraph}. Device-to-device
 * copies and fills are kept too (a graph holds them as well): as a null kernel and geometry with
 * their operands as arguments. Geometries are kept by reference (immutable records); argument
 * values are copied.
 *
 * <pre>
 *   kernels, geometries  [operations]   kernel null: COPY (dst, src, bytes) or FILL (dst, count, value)
 *   argStart             [launches + 1]  offsets into args
 *   args                 [sum of argument counts]  raw 8-byte values
 * </pre>
 */
final class LaunchRecord {
    private Kernel[] kernels = new Kernel[256];
    private LaunchGeometry[] geometries = new LaunchGeometry[256];
    private int[] argStart = new int[257];
    private long[] args = new long[256 * 12];
    private int size;
    private final long[] operands = new long[3];
    private static final LaunchGeometry COPY = new LaunchGeometry(1, 1, 1, 1, 1, 1, 0);   // markers, compared by identity
    private static final LaunchGeometry FILL = new LaunchGeometry(1, 1, 1, 1, 1, 1, 1);

    int size() {
        return size;
    }

    void clear() {
        size = 0;
    }

    void add(Kernel kernel, LaunchGeometry g, KernelArgs a) {
        add(kernel, g, null, a);
    }

    /** A device-to-device copy of {@code bytes}. */
    void addCopy(long dst, long src, long bytes) {
        operands[0] = dst;
        operands[1] = src;
        operands[2] = bytes;
        add(null, COPY, operands, null);
    }

    /** {@code count} 32-bit words at {@code dst} set to {@code value}. */
    void addFill(long dst, long count, int value) {
        operands[0] = dst;
        operands[1] = count;
        operands[2] = value;
        add(null, FILL, operands, null);
    }

    private void add(Kernel kernel, LaunchGeometry g, long[] raw, KernelArgs a) {
        if (size == kernels.length) {
            kernels = Arrays.copyOf(kernels, 2 * size);
            geometries = Arrays.copyOf(geometries, 2 * size);
            argStart = Arrays.copyOf(argStart, 2 * size + 1);
        }
        int at = argStart[size];
        if (at + KernelArgs.MAX_ARGS > args.length) {
            args = Arrays.copyOf(args, 2 * args.length);
        }
        kernels[size] = kernel;
        geometries[size] = g;
        if (raw != null) {
            System.arraycopy(raw, 0, args, at, raw.length);
            argStart[size + 1] = at + raw.length;
        } else {
            argStart[size + 1] = at + a.copyRaw(args, at);
        }
        size++;
    }

    /** True when {@code o} holds the same launches: kernels, geometries and argument values. */
    boolean sameAs(LaunchRecord o) {
        if (size != o.size || argStart[size] != o.argStart[size]) {
            return false;
        }
        for (int i = 0; i < size; i++) {
            if (kernels[i] != o.kernels[i] || argStart[i + 1] != o.argStart[i + 1] || !geometries[i].equals(o.geometries[i])) {
                return false;
            }
        }
        return Arrays.equals(args, 0, argStart[size], o.args, 0, argStart[size]);
    }

    /** Where {@code o} first differs from this record, in words (null when the same), for diagnostics and tests. */
    String firstDifference(LaunchRecord o) {
        for (int i = 0; i < Math.min(size, o.size); i++) {
            if (kernels[i] != o.kernels[i] || !geometries[i].equals(o.geometries[i])) {
                return "launch " + i + ": " + kernels[i] + " " + geometries[i] + " vs " + o.kernels[i] + " " + o.geometries[i];
            }
            int n = argStart[i + 1] - argStart[i], on = o.argStart[i + 1] - o.argStart[i];
            if (n != on) {
                return "launch " + i + " (" + kernels[i] + "): " + n + " arguments vs " + on;
            }
            int j = Arrays.mismatch(args, argStart[i], argStart[i + 1], o.args, o.argStart[i], o.argStart[i + 1]);
            if (j >= 0) {
                return "launch " + i + " (" + kernels[i] + "): argument " + j + " is " + args[argStart[i] + j]
                        + " vs " + o.args[o.argStart[i] + j];
            }
        }
        return size == o.size ? null : "launches: " + size + " vs " + o.size;
    }

    void copyFrom(LaunchRecord o) {
        kernels = o.size > kernels.length ? new Kernel[o.kernels.length] : kernels;
        geometries = o.size > geometries.length ? new LaunchGeometry[o.geometries.length] : geometries;
        argStart = o.size + 1 > argStart.length ? new int[o.argStart.length] : argStart;
        args = o.argStart[o.size] > args.length ? new long[o.args.length] : args;
        System.arraycopy(o.kernels, 0, kernels, 0, o.size);
        System.arraycopy(o.geometries, 0, geometries, 0, o.size);
        System.arraycopy(o.argStart, 0, argStart, 0, o.size + 1);
        System.arraycopy(o.args, 0, args, 0, o.argStart[o.size]);
        size = o.size;
    }

    /** Where the recorded operations go again. */
    interface Issuer {
        void launch(Kernel kernel, LaunchGeometry g, KernelArgs args);

        void copy(long dst, long src, long bytes);

        void fill32(long dst, long count, int value);
    }

    /** Issues every operation in order, packing kernel arguments into {@code scratch}. */
    void issue(KernelArgs scratch, Issuer to) {
        for (int i = 0; i < size; i++) {
            int a = argStart[i];
            if (geometries[i] == COPY) {
                to.copy(args[a], args[a + 1], args[a + 2]);
            } else if (geometries[i] == FILL) {
                to.fill32(args[a], args[a + 1], (int) args[a + 2]);
            } else {
                to.launch(kernels[i], geometries[i], scratch.loadRaw(args, a, argStart[i + 1] - a));
            }
        }
    }
}

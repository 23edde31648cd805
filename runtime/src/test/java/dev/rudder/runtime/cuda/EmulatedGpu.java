package dev.rudder.runtime.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A {@link Gpu} that runs the kernels in plain Java on host memory, walking the launch grid the
 * way the CUDA kernels do (a grid too small leaves outputs unwritten), reading each argument
 * from its packed slot in the kernel's parameter order. Device pointers are real host addresses
 * of native segments, and every pointer a kernel touches is checked to lie inside a live
 * allocation. This tests the CUDA backend's host side (upload layout, row tables, argument
 * order, strides, launch geometry, seam grouping, the gate flag) without a GPU; the CUDA C
 * itself is only checked on a GPU (benchmarks/gpu-check.sh).
 */
final class EmulatedGpu implements Gpu {
    private final TreeMap<Long, MemorySegment> live = new TreeMap<>();
    private final Map<Long, Arena> arenas = new TreeMap<>();
    final EnumMap<Kernel, Integer> launches = new EnumMap<>(Kernel.class);
    final List<String> log = new ArrayList<>();
    /** Each step's launches, copies and fills (between two waits), and whether host copies came between them. */
    final List<LaunchRecord> steps = new ArrayList<>();
    final List<Boolean> mixedSteps = new ArrayList<>();
    private final int sms;

    EmulatedGpu(int multiprocessors) {
        this.sms = multiprocessors;
    }

    @Override
    public synchronized long allocate(long bytes, String what) {
        Arena a = Arena.ofShared();
        MemorySegment s = a.allocate(Math.max(bytes, 4), 256);
        s.fill((byte) 0x7f);   // garbage, like fresh device memory (0x7f7f7f7f is a huge float)
        live.put(s.address(), s);
        arenas.put(s.address(), a);
        return s.address();
    }

    @Override
    public synchronized void free(long address) {
        MemorySegment s = live.remove(address);
        if (s == null) {
            throw new AssertionError("free of " + Long.toHexString(address) + ", which is not a live allocation");
        }
        arenas.remove(address).close();
    }

    synchronized int liveAllocations() {
        return live.size();
    }

    /** The bytes {@code [address, address + bytes)}, which must lie inside one live allocation. */
    synchronized MemorySegment mem(long address, long bytes, String what) {
        Map.Entry<Long, MemorySegment> e = live.floorEntry(address);
        if (address == 0 || e == null || address + bytes > e.getKey() + e.getValue().byteSize()) {
            throw new AssertionError(what + ": " + bytes + " bytes at " + Long.toHexString(address) + " are outside every allocation");
        }
        return e.getValue().asSlice(address - e.getKey(), bytes);
    }

    @Override
    public Queue newQueue() {
        return new EmulatedQueue();
    }

    @Override
    public int multiprocessors() {
        return sms;
    }

    @Override
    public String describe() {
        return "emulated GPU (" + sms + " SMs)";
    }

    @Override
    public void close() {
    }

    private final class EmulatedQueue implements Queue {
        private final LaunchRecord step = new LaunchRecord();
        private boolean mixed;

        private void otherWork() {
            mixed |= step.size() > 0;
        }

        private void endStep() {
            if (step.size() > 0) {
                LaunchRecord r = new LaunchRecord();
                r.copyFrom(step);
                synchronized (EmulatedGpu.this) {
                    steps.add(r);
                    mixedSteps.add(mixed);
                }
            }
            step.clear();
            mixed = false;
        }

        @Override
        public void upload(MemorySegment src, long dst) {
            otherWork();
            mem(dst, src.byteSize(), "upload").copyFrom(src);
        }

        @Override
        public void download(long src, MemorySegment dst) {
            endStep();
            dst.copyFrom(mem(src, dst.byteSize(), "download"));
        }

        @Override
        public void copy(long dst, long src, long bytes) {
            step.addCopy(dst, src, bytes);
            mem(dst, bytes, "copy dst").copyFrom(mem(src, bytes, "copy src"));
        }

        @Override
        public void fill32(long dst, long count, int value) {
            step.addFill(dst, count, value);
            MemorySegment m = mem(dst, 4 * count, "fill");
            for (long i = 0; i < count; i++) {
                m.setAtIndex(JAVA_INT, i, value);
            }
        }

        @Override
        public void launch(Kernel kernel, LaunchGeometry g, KernelArgs args) {
            if (!args.matches(kernel.signature())) {
                throw new AssertionError(kernel.entry() + " takes (" + kernel.signature() + "), got (" + args.signature() + ")");
            }
            synchronized (EmulatedGpu.this) {
                launches.merge(kernel, 1, Integer::sum);
            }
            step.add(kernel, g, args);
            new EmulatedKernels(EmulatedGpu.this, kernel, g, args).run();
        }

        @Override
        public void synchronize() {
            endStep();
        }

        @Override
        public void close() {
        }
    }

    // ---- typed access for the kernels
    float f(long p, long i) {
        return mem(p + 4 * i, 4, "float read").get(JAVA_FLOAT, 0);
    }

    void setF(long p, long i, float v) {
        mem(p + 4 * i, 4, "float write").set(JAVA_FLOAT, 0, v);
    }

    int i(long p, long i) {
        return mem(p + 4 * i, 4, "int read").get(JAVA_INT, 0);
    }

    void setI(long p, long i, int v) {
        mem(p + 4 * i, 4, "int write").set(JAVA_INT, 0, v);
    }

    long l(long p, long i) {
        return mem(p + 8 * i, 8, "pointer read").get(JAVA_LONG, 0);
    }

    /** Element i of a weight array of {@code type}, widened like the kernels do. */
    float w(DeviceDType type, long p, long i) {
        return switch (type) {
            case F32 -> f(p, i);
            case BF16 -> Float.intBitsToFloat((mem(p + 2 * i, 2, "bf16 read").get(JAVA_SHORT, 0) & 0xffff) << 16);
            case F16 -> Float.float16ToFloat(mem(p + 2 * i, 2, "f16 read").get(JAVA_SHORT, 0));
        };
    }
}

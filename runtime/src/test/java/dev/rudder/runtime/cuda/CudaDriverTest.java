package dev.rudder.runtime.cuda;

import dev.rudder.runtime.BadInputException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class CudaDriverTest {

    private static boolean libcudaPresent() {
        for (String dir : new String[] {"/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/nvidia/lib64",
                "/usr/lib/aarch64-linux-gnu", "/usr/lib/wsl/lib"}) {
            if (Files.exists(Path.of(dir, CudaDriver.LIBRARY))) {
                return true;
            }
        }
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) {
            for (String dir : ld.split(":")) {
                if (!dir.isEmpty() && Files.exists(Path.of(dir, CudaDriver.LIBRARY))) {
                    return true;
                }
            }
        }
        return false;
    }

    @Test
    void withoutTheDriverLibraryTheLoaderSaysSoPlainly() {
        assumeTrue(!libcudaPresent(), "this machine has " + CudaDriver.LIBRARY);
        CudaDriver.Loaded l = CudaDriver.load();
        assertEquals(null, l.driver());
        assertEquals("no NVIDIA driver (libcuda.so.1 not found)", l.problem());
        CudaException e = assertThrows(CudaException.class, CudaDriver::require);
        assertEquals("no NVIDIA driver (libcuda.so.1 not found)", e.getMessage());
        assertTrue(e instanceof BadInputException, "reported as bad input: exit 1, message only");
    }

    @Test
    void cudaChoiceWithoutAGpuFailsAndAutoFallsBackWithOneLine() {
        CudaDriver.Loaded l = CudaDriver.load();
        assumeTrue(l.driver() == null, "this machine has a usable NVIDIA driver");
        CudaException e = assertThrows(CudaException.class, () -> DeviceChoice.parse("cuda").resolve(s -> { }));
        assertEquals(l.problem(), e.getMessage());
        StringBuilder note = new StringBuilder();
        assertEquals(DeviceChoice.CPU, DeviceChoice.AUTO.resolve(note::append));
        assertEquals("--device auto: running on the CPU: " + l.problem(), note.toString());
    }

    @Test
    void deviceSpellings() {
        assertEquals(DeviceChoice.CPU, DeviceChoice.parse("cpu"));
        assertEquals(DeviceChoice.AUTO, DeviceChoice.parse(" AUTO "));
        assertEquals(new DeviceChoice(DeviceChoice.Kind.CUDA, 0), DeviceChoice.parse("cuda"));
        assertEquals(new DeviceChoice(DeviceChoice.Kind.CUDA, 3), DeviceChoice.parse("cuda:3"));
        assertEquals("cuda:3", DeviceChoice.parse("cuda:3").toString());
        for (String bad : new String[] {"", "tpu", "cuda:", "cuda:-1", "cuda:x", "cuda0"}) {
            BadInputException e = assertThrows(BadInputException.class, () -> DeviceChoice.parse(bad));
            assertTrue(e.getMessage().contains("cpu, cuda, cuda:N, auto"), e.getMessage());
        }
    }

    @Test
    void cpuNeedsNoDriver() {
        assertEquals(DeviceChoice.CPU, DeviceChoice.CPU.resolve(s -> {
            throw new AssertionError("no note expected: " + s);
        }));
    }

    @Test
    void aRealGpuReportsItselfAndRoundTripsMemory() {
        try (CudaDevice dev = CudaTestSupport.requireGpu()) {
            assertNotNull(dev.name());
            assertTrue(dev.totalMemory() > 0);
            assertTrue(dev.computeCapability() >= 50);
            float[] in = {1f, -2.5f, 3.25f, Float.MIN_VALUE, Float.MAX_VALUE};
            try (DeviceBuffer b = dev.allocate(in.length * 4L)) {
                b.upload(in, 0);
                float[] out = new float[in.length];
                b.download(0, out);
                assertArrayEquals(in, out);
            }
        }
    }

    @Test
    void driverErrorsCarryTheDriverNameAndText() {
        try (CudaDevice dev = CudaTestSupport.requireGpu()) {
            CudaException e = assertThrows(CudaException.class, () -> dev.allocate(1L << 60));
            assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.errorName());
            assertTrue(e.getMessage().contains("cuMemAlloc_v2"), e.getMessage());
            CudaException bad = assertThrows(CudaException.class, () -> dev.loadModule("broken", "this is not PTX"));
            assertTrue(bad.getMessage().contains("cuModuleLoadDataEx(broken)"), bad.getMessage());
        }
    }

    @Test
    void argumentPackingPutsEachValueInItsOwnSlot() {
        try (Arena a = Arena.ofConfined()) {
            KernelArgs args = new KernelArgs(a);
            args.clear().ptr(0x7f00_1234_5678L).i32(-7).f32(1.5f).ptr(1L << 40).ptr(0);
            assertTrue(args.matches("pifpp"));
            assertEquals("pifpp", args.signature());
            assertTrue(!args.matches("pifp") && !args.matches("pifpi"));
            assertEquals(5, args.count());
            assertEquals(0x7f00_1234_5678L, args.rawSlot(0));
            assertEquals(-7, (int) args.rawSlot(1));
            assertEquals(0, args.rawSlot(1) >>> 32, "high bytes under an int are zero");
            assertEquals(Float.floatToRawIntBits(1.5f), (int) args.rawSlot(2));
            assertEquals(1L << 40, args.rawSlot(3));
            assertEquals(0L, args.rawSlot(4));
            // the pointer array points at the slots, in order
            var ptrs = args.pointerArray();
            long s0 = ptrs.getAtIndex(java.lang.foreign.ValueLayout.ADDRESS, 0).address();
            long s2 = ptrs.getAtIndex(java.lang.foreign.ValueLayout.ADDRESS, 2).address();
            assertEquals(16, s2 - s0);
            assertEquals(-7, java.lang.foreign.MemorySegment.ofAddress(s0 + 8).reinterpret(4)
                    .get(java.lang.foreign.ValueLayout.JAVA_INT, 0));
            args.clear().i32(1);
            assertEquals(1, args.count());
            assertThrows(IllegalStateException.class, () -> {
                for (int i = 0; i <= KernelArgs.MAX_ARGS; i++) {
                    args.i32(i);
                }
            });
        }
    }

    @Test
    void launchGeometryCoversEveryElement() {
        LaunchGeometry g = LaunchGeometry.elementwise(1000, 256);
        assertEquals(4, g.gridX());
        assertTrue(g.threads() >= 1000);
        LaunchGeometry w = LaunchGeometry.warpRows(4097, 8, 2, 3);
        assertEquals(257, w.gridX(), "16 rows per block");
        assertEquals(3, w.gridY());
        assertEquals(256, w.blockX());
        LaunchGeometry t = LaunchGeometry.tiles(100, 130, 64, 64, 128);
        assertEquals(3, t.gridX());
        assertEquals(2, t.gridY());
        assertThrows(IllegalArgumentException.class, () -> LaunchGeometry.of(1, 2048));
        assertThrows(IllegalArgumentException.class, () -> LaunchGeometry.of(0, 32));
    }
}

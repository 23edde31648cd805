package dev.rudder.cli;

import dev.rudder.runtime.cuda.CudaDriver;
import org.junit.jupiter.api.Test;

import static dev.rudder.cli.InspectCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code --device} on a machine without an NVIDIA driver or GPU (CI): clear errors, auto falls back. */
class DeviceOptionTest {
    private static final String TINY = GenerateCommandTest.TINY;

    private static String noGpuReason() {
        CudaDriver.Loaded l = CudaDriver.load();
        assumeTrue(l.driver() == null, "this machine has a usable NVIDIA driver");
        return l.problem();
    }

    @Test
    void cudaWithoutADriverIsAClearErrorExitOne() {
        String why = noGpuReason();
        for (String device : new String[] {"cuda", "cuda:1"}) {
            InspectCommandTest.Result r = run("generate", "-m", TINY, "--prompt-ids", "1,2,3", "-n", "1", "--device", device);
            assertEquals(1, r.code(), r.err());
            assertEquals("rudder: " + why, r.err().strip().lines().reduce((a, b) -> b).orElse("").strip().replace("error: ", ""),
                    r.err());
            assertFalse(r.err().contains("Exception"), "no stack trace: " + r.err());
        }
    }

    @Test
    void autoFallsBackToTheCpuWithOneLineSayingWhy() {
        String why = noGpuReason();
        InspectCommandTest.Result r = run("generate", "-m", TINY, "--prompt-ids", "1,7959,38923", "-n", "2", "--ignore-eos",
                "--print-ids", "--device", "auto");
        assertEquals(0, r.code(), r.err());
        assertEquals(1, r.err().lines().filter(l -> l.contains("--device auto")).count(), r.err());
        assertTrue(r.err().contains("--device auto: running on the CPU: " + why), r.err());
    }

    @Test
    void unknownDeviceIsAUsageError() {
        InspectCommandTest.Result r = run("generate", "-m", TINY, "--prompt-ids", "1", "--device", "tpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("cpu, cuda, cuda:N, auto"), r.err());
    }

    @Test
    void everyVerbThatRunsAModelTakesDevice() {
        for (String[] verb : new String[][] {{"generate"}, {"chat"}, {"eval", "refusal"}, {"serve"}, {"vectors", "extract"},
            {"align", "calibrate"}}) {
            String[] args = new String[verb.length + 1];
            System.arraycopy(verb, 0, args, 0, verb.length);
            args[verb.length] = "--help";
            InspectCommandTest.Result r = run(args);
            assertTrue(r.out().contains("--device"), String.join(" ", verb) + " --help: " + r.out());
        }
    }
}

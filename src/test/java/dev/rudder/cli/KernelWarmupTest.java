package dev.rudder.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class KernelWarmupTest {

    @Test
    void runsEveryKernelOnItsSyntheticBuffersWithoutError() {
        assertEquals(3, KernelWarmup.run(3, Long.MAX_VALUE / 4));
    }

    @Test
    void startsOnlyForVerbsThatRunOnePrompt() {
        assertFalse(KernelWarmup.startFor(new String[] {"serve", "-m", "x"}));
        assertFalse(KernelWarmup.startFor(new String[] {"bench"}));
        assertFalse(KernelWarmup.startFor(new String[0]));
    }
}

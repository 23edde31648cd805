package dev.rudder.runtime.tensor;

import dev.rudder.runtime.kernel.VectorSupport;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The vector decode of a super-block's scales and mins gives ggml's get_scale_min_k4 values, times d and -dmin. */
class KScalesTest {
    @Test
    void tableHoldsEveryScaleAndMinTimesItsFactor() {
        assumeTrue(VectorSupport.useVector(), "the Vector API path is off");
        Random rnd = new Random(11);
        float[] s = new float[40];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(Q4KMatrix.BLOCK_BYTES * 64);
            byte[] bytes = new byte[(int) seg.byteSize()];
            rnd.nextBytes(bytes);
            MemorySegment.copy(bytes, 0, seg, ValueLayout.JAVA_BYTE, 0, bytes.length);
            for (int b = 0; b < 64; b++) {
                long o = (long) b * Q4KMatrix.BLOCK_BYTES;
                float d = (float) rnd.nextGaussian(), negMin = (float) rnd.nextGaussian();
                int off = b % 3 * 8;   // the table lands where it is asked to
                KScales.table(seg, o, d, negMin, s, off);
                for (int j = 0; j < 8; j++) {
                    int sm = Q4KMatrix.scaleMin(seg, o + 4, j);   // ggml's byte-wise form
                    assertEquals(d * (sm & 0xFF), s[off + j], 0f, "block " + b + " scale " + j);
                    assertEquals(negMin * (sm >> 8), s[off + 8 + j], 0f, "block " + b + " min " + j);
                }
            }
        }
    }
}

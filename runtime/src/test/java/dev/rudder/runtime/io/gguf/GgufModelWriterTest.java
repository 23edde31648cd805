package dev.rudder.runtime.io.gguf;

import dev.rudder.runtime.io.SafeTensorsWriter;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GgufModelWriterTest {

    @Test
    void bf16RoundsToNearestEvenLikeGgml() {
        // halfway between two bf16 values: ties go to the even mantissa
        assertEquals((short) 0x3f80, SafeTensorsWriter.floatToBf16(Float.intBitsToFloat(0x3f808000)));
        assertEquals((short) 0x3f82, SafeTensorsWriter.floatToBf16(Float.intBitsToFloat(0x3f818000)));
        // just above and below halfway
        assertEquals((short) 0x3f81, SafeTensorsWriter.floatToBf16(Float.intBitsToFloat(0x3f808001)));
        assertEquals((short) 0x3f80, SafeTensorsWriter.floatToBf16(Float.intBitsToFloat(0x3f807fff)));
        // overflow to infinity, infinities kept, NaN stays NaN (quiet)
        assertEquals((short) 0x7f80, SafeTensorsWriter.floatToBf16(Float.MAX_VALUE));
        assertEquals((short) 0xff80, SafeTensorsWriter.floatToBf16(Float.NEGATIVE_INFINITY));
        short nan = SafeTensorsWriter.floatToBf16(Float.intBitsToFloat(0x7f800001));
        assertTrue(Float.isNaN(Float.intBitsToFloat(nan << 16)));
    }

    @Test
    void bf16OfABf16ValueIsExactAndOtherwiseTheNearest() {
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < 100_000; i++) {
            float f = Float.intBitsToFloat(r.nextInt() & 0xbfffffff); // finite, mixed magnitudes and signs
            short h = SafeTensorsWriter.floatToBf16(f);
            float back = Float.intBitsToFloat(h << 16);
            assertEquals(h, SafeTensorsWriter.floatToBf16(back));
            int sign = h & 0x8000;
            int mag = h & 0x7fff;
            for (int m : new int[] {mag - 1, mag + 1}) { // the neighbours of the same sign are no nearer
                if (m >= 0 && m < 0x7f80) {
                    float other = Float.intBitsToFloat((sign | m) << 16);
                    assertTrue(Math.abs(back - f) <= Math.abs(other - f), f + " -> " + back + ", not " + other);
                }
            }
        }
    }

    @Test
    void progressGoesUpInFivePercentStepsToTheEndAndChangesNoByte(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        try (dev.rudder.runtime.io.ModelFiles f = dev.rudder.runtime.io.ModelFiles.open(
                dev.rudder.runtime.SharedData.model("tiny-llama-f32"))) {
            java.nio.file.Path quiet = dir.resolve("quiet.gguf");
            java.nio.file.Path loud = dir.resolve("loud.gguf");
            GgufModelWriter.write(f.config(), f.store(), "Q8_0", java.util.Map.of(), "t", quiet);
            java.io.ByteArrayOutputStream lines = new java.io.ByteArrayOutputStream();
            GgufModelWriter.write(f.config(), f.store(), "Q8_0", java.util.Map.of(), "t", loud,
                    new java.io.PrintStream(lines, true, java.nio.charset.StandardCharsets.UTF_8), 0);
            assertArrayEquals(java.nio.file.Files.readAllBytes(quiet), java.nio.file.Files.readAllBytes(loud));
            java.util.List<String> got = lines.toString(java.nio.charset.StandardCharsets.UTF_8).lines().toList();
            assertTrue(got.getLast().startsWith("quantize: 100%"), got.toString());
            int last = -1;
            for (String l : got) {
                int pct = Integer.parseInt(l.substring("quantize:".length(), l.indexOf('%')).trim());
                assertTrue(pct > last && pct % 5 == 0, got.toString());
                last = pct;
            }
        }
    }
}

package dev.rudder.runtime.io;

import dev.rudder.runtime.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** F16 / BF16 to float32 widening is exact; values checked against hand-decoded bit patterns. */
class WideningTest {

    @TempDir
    Path tmp;

    static MemorySegment shorts(int... bits) {
        ByteBuffer b = ByteBuffer.allocate(bits.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : bits) {
            b.putShort((short) x);
        }
        return MemorySegment.ofArray(b.array());
    }

    float[] roundTrip(DType dtype, MemorySegment bytes) throws Exception {
        Path p = tmp.resolve(dtype + ".safetensors");
        long n = bytes.byteSize() / dtype.byteSize();
        new SafeTensorsWriter().add("t", dtype, bytes, n).write(p);
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            return f.tensor("t").toFloats();
        }
    }

    @Test
    void f16KnownValues() throws Exception {
        // sign | exponent (5 bits, bias 15) | mantissa (10 bits), decoded by hand
        int[] bits = {0x3C00, 0xC000, 0x0001, 0x03FF, 0x0400, 0x7BFF, 0x7C00, 0xFC00, 0x8000, 0x3555, 0xAFE4, 0x0000};
        float[] expected = {1f, -2f, 0x1p-24f, 1023 * 0x1p-24f, 0x1p-14f, 65504f, Float.POSITIVE_INFINITY,
                Float.NEGATIVE_INFINITY, -0f, (1 + 341 / 1024f) / 4, -(1 + 996 / 1024f) / 16, 0f};
        float[] got = roundTrip(DType.F16, shorts(bits));
        for (int i = 0; i < bits.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(got[i]),
                    "F16 0x" + Integer.toHexString(bits[i]) + " -> " + got[i] + " expected " + expected[i]);
        }
        float[] nan = roundTrip(DType.F16, shorts(0x7E00, 0xFE01));
        assertTrue(Float.isNaN(nan[0]) && Float.isNaN(nan[1]));
    }

    @Test
    void bf16KnownValues() throws Exception {
        // bfloat16 = upper 16 bits of a float32
        int[] bits = {0x3F80, 0x4049, 0xC2F7, 0x0001, 0x7F80, 0xFF80, 0x8000, 0x7F7F, 0x3E7C};
        float[] expected = {1f, 3.140625f, -123.5f, 0x1p-133f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f,
                0x1.FEp127f, 0.24609375f};
        float[] got = roundTrip(DType.BF16, shorts(bits));
        for (int i = 0; i < bits.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(got[i]),
                    "BF16 0x" + Integer.toHexString(bits[i]));
        }
        assertTrue(Float.isNaN(roundTrip(DType.BF16, shorts(0x7FC0))[0]));
    }

    @Test
    void allF16BitPatternsMatchReference() throws Exception {
        int[] all = new int[65536];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        float[] got = roundTrip(DType.F16, shorts(all));
        for (int i = 0; i < all.length; i++) {
            float ref = referenceF16(i);
            if (Float.isNaN(ref)) {
                assertTrue(Float.isNaN(got[i]), "0x" + Integer.toHexString(i));
            } else {
                assertEquals(Float.floatToRawIntBits(ref), Float.floatToRawIntBits(got[i]), "0x" + Integer.toHexString(i));
            }
        }
    }

    /** Textbook IEEE half decoding, independent of Float.float16ToFloat. */
    static float referenceF16(int h) {
        int sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
        double v;
        if (exp == 0) {
            v = man * Math.pow(2, -24);
        } else if (exp == 31) {
            v = man == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        } else {
            v = (1 + man / 1024.0) * Math.pow(2, exp - 15);
        }
        return (float) (sign == 1 ? -v : v);
    }

    @Test
    void sharedCheckpointValuesDecodedByHand() {
        Path models = SharedCheckpointsTest.SHARED.resolve("models");
        try (TensorStore s = TensorStore.open(models.resolve("tiny-qwen2-f16"))) {
            TensorInfo emb = s.require("model.embed_tokens.weight", 8192, 96);
            assertEquals(DType.F16, emb.dtype());
            float[] f = s.readFloats(emb);
            // raw 0xafe4 0xae67 0xb448 0x2f75
            assertArrayEquals(new float[]{-0.123291015625f, -0.10003662109375f, -0.267578125f, 0.11651611328125f},
                    java.util.Arrays.copyOf(f, 4));
            float[] bias = s.readFloats(s.require("model.layers.0.self_attn.q_proj.bias", 96));
            assertArrayEquals(new float[]{-0.27880859375f, 0.1346435546875f, -0.302490234375f, -0.056610107421875f},
                    java.util.Arrays.copyOf(bias, 4));
        }
        try (TensorStore s = TensorStore.open(models.resolve("tiny-llama3-bf16"))) {
            TensorInfo emb = s.require("model.embed_tokens.weight", 8192, 128);
            assertEquals(DType.BF16, emb.dtype());
            float[] f = s.readFloats(emb);
            // raw 0x3e7c 0x3e1e 0xbe86 0x3def
            assertArrayEquals(new float[]{0.24609375f, 0.154296875f, -0.26171875f, 0.11669921875f},
                    java.util.Arrays.copyOf(f, 4));
            // a row read alone equals the same slice of the whole table
            float[] row = new float[128];
            TensorStore.readFloats(emb, 5L * 128, row, 0, 128);
            assertArrayEquals(java.util.Arrays.copyOfRange(f, 5 * 128, 6 * 128), row);
        }
    }

    @Test
    void writerRoundsToNearestEven() throws Exception {
        float[] v = new float[20000];
        Random r = new Random(1);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(8) - 4));
        }
        for (DType d : new DType[]{DType.F32, DType.F16, DType.BF16}) {
            Path p = tmp.resolve("rt-" + d + ".safetensors");
            new SafeTensorsWriter().addFloats("t", d, v, 100, 200).write(p);
            try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
                float[] back = f.tensor("t").toFloats();
                assertEquals(d, f.tensor("t").dtype());
                for (int i = 0; i < v.length; i++) {
                    float expect = switch (d) {
                        case F32 -> v[i];
                        case F16 -> Float.float16ToFloat(Float.floatToFloat16(v[i]));
                        default -> bf16RoundTripViaDouble(v[i]);
                    };
                    assertEquals(Float.floatToRawIntBits(expect), Float.floatToRawIntBits(back[i]), d + " at " + i);
                }
            }
        }
    }

    /** Independent round-to-nearest-even to 8 mantissa bits using BigDecimal-free double arithmetic. */
    static float bf16RoundTripViaDouble(float x) {
        if (x == 0 || Float.isNaN(x) || Float.isInfinite(x)) {
            return x;
        }
        int e = Math.getExponent(x);
        double ulp = Math.scalb(1.0, Math.max(e, -126) - 7);
        return (float) (Math.rint(x / ulp) * ulp);
    }

    @Test
    void nonFloatTensorCannotBeWidened() throws Exception {
        Path p = tmp.resolve("i.safetensors");
        new SafeTensorsWriter().add("ids", DType.I64, MemorySegment.ofArray(new long[]{1, 2}), 2).write(p);
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            BadInputException e = assertThrows(BadInputException.class, () -> f.tensor("ids").toFloats());
            assertTrue(e.getMessage().contains("ids") && e.getMessage().contains("I64"), e.getMessage());
        }
    }
}

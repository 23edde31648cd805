package dev.rudder.runtime.backend.cpu;

import dev.rudder.runtime.SharedData;
import dev.rudder.runtime.backend.Batch;
import dev.rudder.runtime.backend.KvCacheType;
import dev.rudder.runtime.backend.KvCacheTypes;
import dev.rudder.runtime.backend.SteerMode;
import dev.rudder.runtime.io.SafeTensorsWriter;
import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.steer.SteeringPlan;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A 16-bit KV cache attends exactly as a float32 cache that holds the same values rounded: the cache rounds each
 * key and value once to nearest (F16 or BF16) when stored, and attention widens them exactly, a tile of positions at
 * a time, continuing every sum across tiles. Checked on whole attention steps (store, scores, softmax, values) of a
 * model with four query heads per key/value head, over contexts of several tiles, for decode batches of distinct
 * sequences and for prompt rows of one sequence.
 */
class SixteenBitKvCacheTest {
    private static final int CONTEXT = 1300;    // tiles of 512 positions at head_dim 16: three, the last partial
    private static Model model;
    private static CpuBackend backend;

    @BeforeAll
    static void load() {
        model = Model.load(SharedData.model("tiny-llama3-bf16"), 2, null);   // 8 query heads on 2 key/value heads
        backend = (CpuBackend) model.backend();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** x as the cache of type {@code t} holds it. */
    private static float rounded(KvCacheType t, float x) {
        return switch (t) {
            case F32 -> x;
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(x));
            case BF16 -> Float.intBitsToFloat(SafeTensorsWriter.floatToBf16(x) << 16);
        };
    }

    private static float[] rounded(KvCacheType t, float[] x) {
        float[] r = x.clone();
        for (int i = 0; i < r.length; i++) {
            r[i] = rounded(t, r[i]);
        }
        return r;
    }

    private static float[] gaussian(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian() * 2f;
        }
        return x;
    }

    /**
     * The same random queries, keys and values (rounded for the float32 side) into both activations, one attention
     * step of {@code layer} on each batch, then every output compared bit for bit.
     */
    private static void attendBoth(Random r, KvCacheTypes types, CpuActivations a16, Batch b16, CpuActivations a32,
                                   Batch b32, int layer, String what) {
        int rows = b16.size();
        int kvDim = model.config().numKvHeads() * model.config().headDim();
        int qDim = model.config().numHeads() * model.config().headDim();
        float[] q = gaussian(r, rows * qDim);
        float[] k = gaussian(r, rows * kvDim);
        float[] v = gaussian(r, rows * kvDim);
        System.arraycopy(q, 0, a16.q, 0, q.length);
        System.arraycopy(q, 0, a32.q, 0, q.length);
        System.arraycopy(k, 0, a16.k, 0, k.length);
        System.arraycopy(rounded(types.keys(), k), 0, a32.k, 0, k.length);
        System.arraycopy(v, 0, a16.v, 0, v.length);
        System.arraycopy(rounded(types.values(), v), 0, a32.v, 0, v.length);
        backend.attention(a16, b16, layer);
        backend.attention(a32, b32, layer);
        for (int i = 0; i < rows * qDim; i++) {
            assertEquals(Float.floatToIntBits(a32.attnOut[i]), Float.floatToIntBits(a16.attnOut[i]), what + ", output " + i);
        }
    }

    @ParameterizedTest
    @CsvSource({"F16,F16", "BF16,BF16", "F16,F32", "F32,BF16", "BF16,F16"})
    void decodeRowsAttendAsAFloatCacheOfTheRoundedValues(KvCacheType keys, KvCacheType values) {
        KvCacheTypes types = new KvCacheTypes(keys, values);
        int kvDim = model.config().numKvHeads() * model.config().headDim();
        Random r = new Random(11);
        int[] slots = {0, 31, 511, 512, 700, CONTEXT - 1};   // tile edges, one tile and a bit, the whole context
        for (int rows = 1; rows <= slots.length; rows += 5) {
            CpuSequence[] s16 = new CpuSequence[rows];
            CpuSequence[] s32 = new CpuSequence[rows];
            CpuActivations a16 = (CpuActivations) backend.newActivations(rows, CONTEXT);
            CpuActivations a32 = (CpuActivations) backend.newActivations(rows, CONTEXT);
            Batch b16 = new Batch(rows).reset(Batch.Kind.DECODE, rows);
            Batch b32 = new Batch(rows).reset(Batch.Kind.DECODE, rows);
            for (int i = 0; i < rows; i++) {
                s16[i] = (CpuSequence) backend.newSequence(CONTEXT, SteeringPlan.NONE, types);
                s32[i] = (CpuSequence) backend.newSequence(CONTEXT, SteeringPlan.NONE);
                int slot = slots[(i + rows) % slots.length];
                for (int t = 0; t < slot; t++) {                  // the history: the same values, rounded for s32
                    float[] k = gaussian(r, kvDim);
                    float[] v = gaussian(r, kvDim);
                    s16[i].store(0, t, k, v, 0, 0, kvDim);
                    s32[i].store(0, t, rounded(keys, k), rounded(values, v), 0, 0, kvDim);
                }
                b16.add(s16[i], slot, slot, i % 2 == 0 ? 0 : slot / 3, SteerMode.OFF, true);
                b32.add(s32[i], slot, slot, i % 2 == 0 ? 0 : slot / 3, SteerMode.OFF, true);
            }
            attendBoth(r, types, a16, b16, a32, b32, 0, types + ", " + rows + " rows");
        }
    }

    @ParameterizedTest
    @CsvSource({"F16,F16", "BF16,BF16"})
    void promptRowsAttendAsAFloatCacheOfTheRoundedValues(KvCacheType keys, KvCacheType values) {
        KvCacheTypes types = new KvCacheTypes(keys, values);
        int kvDim = model.config().numKvHeads() * model.config().headDim();
        Random r = new Random(5);
        int start = 1000;                                        // a prompt part after 1000 cached positions
        int rows = 40;
        CpuSequence s16 = (CpuSequence) backend.newSequence(CONTEXT, SteeringPlan.NONE, types);
        CpuSequence s32 = (CpuSequence) backend.newSequence(CONTEXT, SteeringPlan.NONE);
        for (int t = 0; t < start; t++) {
            float[] k = gaussian(r, kvDim);
            float[] v = gaussian(r, kvDim);
            s16.store(1, t, k, v, 0, 0, kvDim);
            s32.store(1, t, rounded(keys, k), rounded(values, v), 0, 0, kvDim);
        }
        CpuActivations a16 = (CpuActivations) backend.newActivations(rows, CONTEXT);
        CpuActivations a32 = (CpuActivations) backend.newActivations(rows, CONTEXT);
        Batch b16 = new Batch(rows).reset(Batch.Kind.PROMPT, rows);
        Batch b32 = new Batch(rows).reset(Batch.Kind.PROMPT, rows);
        for (int i = 0; i < rows; i++) {
            int from = i % 3 == 2 ? start + i - 600 : 0;    // some rows attend to a window (sliding-window attention)
            b16.add(s16, start + i, start + i, from, SteerMode.OFF, i == rows - 1);
            b32.add(s32, start + i, start + i, from, SteerMode.OFF, i == rows - 1);
        }
        attendBoth(r, types, a16, b16, a32, b32, 1, types + ", prompt rows");
    }
}

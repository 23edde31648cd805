package dev.rudder.runtime.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Host-side launch planning: weight upload layout, attention splits, block sizes. */
class LaunchPlanningTest {

    @Test
    void blockLayoutStacksMatricesOnAlignedNonOverlappingParts() {
        // llama-2-7b shape, BF16
        WeightLayout l = WeightLayout.block(4096, 4096, 4096, 11008, 2, false, false, false, false);
        WeightLayout.Part qkv = l.part("qkv");
        assertEquals(3 * 4096, qkv.rows());
        assertEquals(4096, qkv.cols());
        assertEquals(2 * 11008, l.part("gate_up").rows());
        assertNull(l.part("qkv_bias"));
        long end = 0;
        for (WeightLayout.Part p : l.parts()) {
            assertEquals(0, p.offset() % WeightLayout.ALIGN, p.name() + " aligned");
            assertTrue(p.offset() >= end, p.name() + " after the previous part");
            end = p.offset() + p.bytes();
        }
        assertTrue(l.bytes() >= end);
        assertTrue(l.bytes() - end < WeightLayout.ALIGN);
        // Qwen2: q/k/v biases as one stacked F32 vector
        WeightLayout q = WeightLayout.block(96, 96, 32, 256, 2, true, false, false, false);
        assertEquals(96 + 2 * 32, q.part("qkv_bias").cols());
        assertEquals(4, q.part("qkv_bias").elementBytes());
    }

    @Test
    void stackedBiasesKeepZerosForMissingParts() {
        float[] b = DeviceWeights.concat(7, new float[] {1, 2, 3}, 3, null, 2, new float[] {4, 5}, 2);
        assertEquals("[1.0, 2.0, 3.0, 0.0, 0.0, 4.0, 5.0]", java.util.Arrays.toString(b));
    }

    @Test
    void decodeSplitsTheKvLengthPrefillDoesNot() {
        // decode, 32 heads, 4000 cached positions, 132 SMs: split until the GPU is busy
        AttentionSplit d = AttentionSplit.choose(32, 4000, 132);
        assertTrue(d.splits() > 1 && d.splits() <= CudaActivations.MAX_SPLITS);
        assertTrue((long) d.splits() * d.length(4000) >= 4000, "covers the span");
        assertTrue((long) (d.splits() - 1) * d.length(4000) < 4000, "no empty trailing split");
        // short context: at most ceil(span rounded up to a power of two / MIN_KEYS) splits
        assertEquals(8, AttentionSplit.MIN_KEYS, "the figures below assume 8");
        AttentionSplit s = AttentionSplit.choose(32, 40, 132);
        assertEquals(64 / 8, s.splits());
        assertEquals(5, s.length(40));
        // the count changes only where the span passes a power of two: consecutive decode steps launch alike
        for (int span = 33; span <= 64; span++) {
            assertEquals(8, AttentionSplit.choose(32, span, 132).splits(), "span " + span);
        }
        assertEquals(16, AttentionSplit.choose(32, 65, 132).splits());
        // prefill: 512 rows x 32 heads keep the GPU busy without splitting
        AttentionSplit p = AttentionSplit.choose(512 * 32, 512, 132);
        assertEquals(1, p.splits());
        assertEquals(512, p.length(512));
        assertEquals(1, AttentionSplit.choose(4, 1, 132).splits());
        // the partial-result buffers are sized for the most any choice asks for
        for (int pairs = 1; pairs <= 5000; pairs += 7) {
            for (int span : new int[] {1, 31, 33, 500, 4096, 131072}) {
                AttentionSplit a = AttentionSplit.choose(pairs, span, 132);
                assertTrue(a.splits() == 1 || (long) pairs * a.splits() <= AttentionSplit.maxPartials(132),
                        pairs + " pairs, span " + span + ": " + a);
            }
        }
    }

    @Test
    void alignedMatvecKernelsOnlyForRowsOfWholeSixteenByteLoads() {
        assertEquals(Kernel.MATVEC_BF16, DeviceDType.BF16.matvec(4096));
        assertEquals(Kernel.MATVEC_BF16_UNALIGNED, DeviceDType.BF16.matvec(172));   // 344 bytes
        assertEquals(Kernel.MATVEC_F32, DeviceDType.F32.matvec(172));               // 688 bytes
        assertEquals(Kernel.MATVEC_F32_UNALIGNED, DeviceDType.F32.matvec(10));
        assertEquals(Kernel.MATVEC_SWIGLU_F16, DeviceDType.F16.matvecSwiglu(64));
        assertEquals(Kernel.MATVEC_SWIGLU_F16_UNALIGNED, DeviceDType.F16.matvecSwiglu(36));
    }

    @Test
    void rowKernelsGetWholeWarps() {
        for (int n : new int[] {1, 64, 96, 576, 2048, 4096, 8192}) {
            int t = CudaBackend.rowThreads(n);
            assertEquals(0, t % 32);
            assertTrue(t >= 32 && t <= 1024);
        }
    }
}

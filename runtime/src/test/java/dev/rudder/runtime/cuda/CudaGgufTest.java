package dev.rudder.runtime.cuda;

import dev.rudder.runtime.SharedData;
import dev.rudder.runtime.backend.Backend;
import dev.rudder.runtime.backend.cpu.CpuBackend;
import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.model.PromptInput;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** GGUF and quantized weights on the CUDA backend's host side ({@link EmulatedGpu}: kernels run in Java). */
class CudaGgufTest {
    static Backend.Factory emulated() {
        return (cfg, weights, threads) -> new CudaBackend(new EmulatedGpu(4), true, cfg, weights);
    }

    @Test
    void llamaGgufFilesAreRefusedRatherThanRotatedWrongly() {
        CudaException e = assertThrows(CudaException.class, () -> Model.load(
                SharedData.model("tiny-quant-gguf").resolve("tiny-quant-Q8_0.gguf"), 1, null, emulated()).close());
        assertTrue(e.getMessage().contains("CPU only") && e.getMessage().contains("--device cpu"), e.getMessage());
    }

    @Test
    void matricesQuantizedAtLoadRunAsTheirDequantizedValues() {
        int[] prompt = {1, 17, 300, 42, 999, 5, 77};
        try (Model cpu = Model.load(SharedData.model("tiny-qwen2-f16"), 1, null, "Q8_0", CpuBackend::new);
             Model gpu = Model.load(SharedData.model("tiny-qwen2-f16"), 1, null, "Q8_0", emulated())) {
            float[] a = cpu.newSession(16).prefill(PromptInput.tokens(prompt));
            float[] b = gpu.newSession(16).prefill(PromptInput.tokens(prompt));
            float max = 0;
            for (int i = 0; i < a.length; i++) {
                max = Math.max(max, Math.abs(a[i] - b[i]));
            }
            assertTrue(max <= 1e-4f, "CPU Q8_0 vs emulated CUDA (Q8_0 uploaded as F32): " + max);
        }
    }
}

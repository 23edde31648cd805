package dev.rudder.runtime.cuda;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;

/**
 * The golden logits on a real GPU (tolerance 1e-3: tensor cores and another summation order),
 * for developers with an NVIDIA GPU and a JDK; skips with the reason everywhere else. The GPU
 * check (benchmarks/gpu-check.sh) runs this and much more without a JDK.
 */
class CudaBackendGpuTest {

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"tiny-llama-f32", "tiny-llama3-bf16", "tiny-qwen2-f16", "tiny-mistral-sharded", "aidreams260K-hf"})
    void goldenLogitsOnTheGpu(String name) throws IOException {
        CudaTestSupport.requireGpu().close();
        CudaBackendEmulatedTest.checkGolden(name, CudaBackend.factory(0), 1e-3f);
    }
}

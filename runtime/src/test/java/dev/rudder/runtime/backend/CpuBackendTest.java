package dev.rudder.runtime.backend;

import dev.rudder.runtime.backend.cpu.CpuBackend;

/** The CPU backend against the contract (and itself as the reference: no difference allowed). */
class CpuBackendTest extends BackendContract {
    @Override
    protected Backend.Factory factory() {
        return CpuBackend::new;
    }

    @Override
    protected float tolerance() {
        return 0f;
    }
}

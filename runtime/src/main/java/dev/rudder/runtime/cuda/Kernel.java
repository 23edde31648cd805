package dev.rudder.runtime.cuda;

/**
 * Every kernel entry point in the committed PTX (sources in {@code runtime/src/main/cuda/}),
 * with the module it lives in and its parameter signature, one letter per parameter in order:
 * {@code p} pointer, {@code i} int, {@code f} float. {@link KernelArgs} records the same letters
 * as arguments are packed, and a launch with a different list is refused before it reaches the
 * driver; a test checks the signatures against the {@code .entry} declarations in the PTX.
 */
public enum Kernel {
    EMBED_F32("elementwise", "embed_f32", "ppipi"),
    EMBED_BF16("elementwise", "embed_bf16", "ppipi"),
    EMBED_F16("elementwise", "embed_f16", "ppipi"),
    RMSNORM("elementwise", "rmsnorm", "pppif"),
    ROPE_KV_STORE("elementwise", "rope_kv_store", "pppppppiiii"),
    SWIGLU("elementwise", "swiglu", "ppii"),
    RESIDUAL_SEAM("elementwise", "residual_seam", "pppfpppii"),
    RESIDUAL_SEAM_RMSNORM("elementwise", "residual_seam_rmsnorm", "pppfpppiippf"),
    GATE_DECIDE("elementwise", "gate_decide", "ppfiipp"),
    ARGMAX("elementwise", "argmax", "pip"),
    MATVEC_F32("matvec", "matvec_f32", "ppipipii"),
    MATVEC_BF16("matvec", "matvec_bf16", "ppipipii"),
    MATVEC_F16("matvec", "matvec_f16", "ppipipii"),
    MATVEC_SWIGLU_F32("matvec", "matvec_swiglu_f32", "ppippii"),
    MATVEC_SWIGLU_BF16("matvec", "matvec_swiglu_bf16", "ppippii"),
    MATVEC_SWIGLU_F16("matvec", "matvec_swiglu_f16", "ppippii"),
    MATVEC_F32_UNALIGNED("matvec", "matvec_f32_unaligned", "ppipipii"),
    MATVEC_BF16_UNALIGNED("matvec", "matvec_bf16_unaligned", "ppipipii"),
    MATVEC_F16_UNALIGNED("matvec", "matvec_f16_unaligned", "ppipipii"),
    MATVEC_SWIGLU_F32_UNALIGNED("matvec", "matvec_swiglu_f32_unaligned", "ppippii"),
    MATVEC_SWIGLU_BF16_UNALIGNED("matvec", "matvec_swiglu_bf16_unaligned", "ppippii"),
    MATVEC_SWIGLU_F16_UNALIGNED("matvec", "matvec_swiglu_f16_unaligned", "ppippii"),
    MATMUL_TC_BF16("matmul", "matmul_tc_bf16", "pppipiii"),
    MATMUL_TC_F16("matmul", "matmul_tc_f16", "pppipiii"),
    ATTENTION("attention", "attention", "pipppppipppiiiif"),
    ATTENTION_COMBINE("attention", "attention_combine", "pppiii");

    /** The PTX modules, in load order (resource {@code dev/rudder/runtime/cuda/NAME.ptx}). */
    public static final String[] MODULES = {"elementwise", "matvec", "matmul", "attention"};

    private final String module;
    private final String entry;
    private final String signature;

    Kernel(String module, String entry, String signature) {
        this.module = module;
        this.entry = entry;
        this.signature = signature;
    }

    public String module() {
        return module;
    }

    public String entry() {
        return entry;
    }

    public String signature() {
        return signature;
    }
}

package dev.rudder.runtime.io.gguf;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** llama.cpp's tensor names ({@code blk.N.attn_q.weight}) and the Hugging Face ones Rudder uses inside. */
public final class GgufNames {
    private static final Map<String, String> GLOBAL = Map.of(
            "token_embd.weight", "model.embed_tokens.weight",
            "output_norm.weight", "model.norm.weight",
            "output.weight", "lm_head.weight");
    private static final Map<String, String> LAYER = Map.ofEntries(
            Map.entry("attn_norm.weight", "input_layernorm.weight"),
            Map.entry("attn_q.weight", "self_attn.q_proj.weight"),
            Map.entry("attn_k.weight", "self_attn.k_proj.weight"),
            Map.entry("attn_v.weight", "self_attn.v_proj.weight"),
            Map.entry("attn_output.weight", "self_attn.o_proj.weight"),
            Map.entry("attn_q.bias", "self_attn.q_proj.bias"),
            Map.entry("attn_k.bias", "self_attn.k_proj.bias"),
            Map.entry("attn_v.bias", "self_attn.v_proj.bias"),
            Map.entry("attn_output.bias", "self_attn.o_proj.bias"),
            Map.entry("ffn_norm.weight", "post_attention_layernorm.weight"),
            Map.entry("ffn_gate.weight", "mlp.gate_proj.weight"),
            Map.entry("ffn_up.weight", "mlp.up_proj.weight"),
            Map.entry("ffn_down.weight", "mlp.down_proj.weight"),
            Map.entry("ffn_gate.bias", "mlp.gate_proj.bias"),
            Map.entry("ffn_up.bias", "mlp.up_proj.bias"),
            Map.entry("ffn_down.bias", "mlp.down_proj.bias"));
    private static final Pattern GGUF_LAYER = Pattern.compile("blk\\.(\\d+)\\.(.+)");
    private static final Pattern HF_LAYER = Pattern.compile("model\\.layers\\.(\\d+)\\.(.+)");

    private GgufNames() {
    }

    /** The Hugging Face name of a llama.cpp tensor name; other names (e.g. {@code rope_freqs.weight}) unchanged. */
    public static String toHf(String gguf) {
        String g = GLOBAL.get(gguf);
        if (g != null) {
            return g;
        }
        Matcher m = GGUF_LAYER.matcher(gguf);
        if (m.matches() && LAYER.containsKey(m.group(2))) {
            return "model.layers." + m.group(1) + "." + LAYER.get(m.group(2));
        }
        return gguf;
    }

    /** The llama.cpp name of a Hugging Face tensor name, or null when llama.cpp has none. */
    public static String toGguf(String hf) {
        for (Map.Entry<String, String> e : GLOBAL.entrySet()) {
            if (e.getValue().equals(hf)) {
                return e.getKey();
            }
        }
        Matcher m = HF_LAYER.matcher(hf);
        if (m.matches()) {
            for (Map.Entry<String, String> e : LAYER.entrySet()) {
                if (e.getValue().equals(m.group(2))) {
                    return "blk." + m.group(1) + "." + e.getKey();
                }
            }
        }
        return null;
    }

    /** True for the q and k projection weights (whose rows llama.cpp stores in adjacent-pair RoPE order). */
    public static boolean isQueryOrKey(String hf) {
        return hf.endsWith("self_attn.q_proj.weight") || hf.endsWith("self_attn.k_proj.weight")
                || hf.endsWith("self_attn.q_proj.bias") || hf.endsWith("self_attn.k_proj.bias");
    }

    /**
     * Row {@code r} of a q/k projection in llama.cpp's pair order comes from this Hugging Face row: within each head of
     * {@code headDim} rows, pair order row {@code 2i + s} is HF row {@code i + s * headDim/2}.
     */
    public static int hfRowOfPairRow(int r, int headDim) {
        int h = r / headDim;
        int j = r % headDim;
        return h * headDim + (j & 1) * (headDim / 2) + (j >> 1);
    }

    /** Reorders the rows of {@code w} ([rows, cols]) from HF order to llama.cpp's pair order ({@code toPairs}) or back. */
    public static float[] permuteRows(float[] w, int rows, int cols, int headDim, boolean toPairs) {
        float[] out = new float[w.length];
        for (int r = 0; r < rows; r++) {
            int hf = hfRowOfPairRow(r, headDim);
            if (toPairs) {
                System.arraycopy(w, hf * cols, out, r * cols, cols);
            } else {
                System.arraycopy(w, r * cols, out, hf * cols, cols);
            }
        }
        return out;
    }
}

package dev.rudder.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rudder.runtime.backend.KvCacheType;
import dev.rudder.runtime.backend.KvCacheTypes;
import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.io.ModelFiles;
import dev.rudder.runtime.io.RandomCheckpoint;
import dev.rudder.runtime.io.SafeTensorsWriter;
import dev.rudder.runtime.io.TensorInfo;
import dev.rudder.runtime.io.TensorStore;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code rudder inspect}: configuration, parameter count, dtypes and tensor list of a model folder. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Show a model's architecture, configuration, parameter count, dtypes and tensors.")
final class InspectCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true,
            description = "Hugging Face model folder (or HF cache folder models--org--name), or a GGUF file")
    Path model;

    @Option(names = "--json", description = "print one JSON object instead of text")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        try (ModelFiles files = ModelFiles.open(model)) {
            Path dir = files.path();
            ModelConfig c = files.config();
            TensorStore store = files.store();
            List<TensorInfo> tensors = store.all();
            long params = 0, bytes = 0;
            Map<DType, long[]> perDtype = new EnumMap<>(DType.class); // tensors, elements, bytes
            for (TensorInfo t : tensors) {
                params += t.elementCount();
                bytes += t.byteSize();
                long[] a = perDtype.computeIfAbsent(t.dtype(), k -> new long[3]);
                a[0]++;
                a[1] += t.elementCount();
                a[2] += t.byteSize();
            }
            List<String> problems = check(c, store);
            if (json) {
                ObjectNode o = JSON.createObjectNode();
                o.put("model", dir.toString());
                o.put("architecture", c.architecture());
                o.put("model_type", c.modelType());
                o.set("config", JSON.readTree(c.toJson()));
                o.put("parameters", params);
                o.put("total_bytes", bytes);
                ObjectNode kv = o.putObject("kv_cache_bytes_per_position");   // keys and values of every layer
                for (KvCacheType t : KvCacheType.values()) {
                    kv.put(t.label(), new KvCacheTypes(t, t).bytesPerPosition(c));
                }
                ObjectNode d = o.putObject("dtypes");
                perDtype.forEach((k, v) -> d.putObject(k.name()).put("tensors", v[0]).put("parameters", v[1]).put("bytes", v[2]));
                ArrayNode fileList = o.putArray("files");
                if (files.gguf()) {
                    fileList.add(dir.getFileName().toString());
                }
                store.files().forEach(f -> fileList.add(dir.relativize(f.path()).toString()));
                ArrayNode ts = o.putArray("tensors");
                for (TensorInfo t : tensors) {
                    ObjectNode e = ts.addObject();
                    e.put("name", t.name());
                    e.put("dtype", t.dtype().name());
                    ArrayNode sh = e.putArray("shape");
                    for (long s : t.shape()) {
                        sh.add(s);
                    }
                    e.put("bytes", t.byteSize());
                    e.put("bits_per_weight", bitsPerWeight(t));
                    if (store.files().size() > 1) {
                        e.put("file", t.file().getFileName().toString());
                    }
                }
                ArrayNode pr = o.putArray("problems");
                problems.forEach(pr::add);
                out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o));
            } else {
                printText(out, dir, c, store, params, bytes, perDtype, problems);
            }
            out.flush();
        }
        return 0;
    }

    private static void printText(PrintWriter out, Path dir, ModelConfig c, TensorStore store, long params, long bytes,
                                  Map<DType, long[]> perDtype, List<String> problems) {
        out.printf("model         %s%n", dir);
        out.printf("architecture  %s (model_type %s)%n", c.architecture(), c.modelType());
        out.printf("parameters    %,d (%s)%n", params, human(params));
        out.printf("total bytes   %,d (%s)%n", bytes, bytesHuman(bytes));
        StringBuilder dt = new StringBuilder();
        perDtype.forEach((k, v) -> dt.append(dt.isEmpty() ? "" : ", ").append(k).append(": ").append(v[0])
                .append(v[0] == 1 ? " tensor" : " tensors").append(String.format(Locale.ROOT, " (%,d parameters)", v[1])));
        out.printf("dtypes        %s%n", dt);
        out.printf("files         %s%n", store.files().isEmpty() ? dir.getFileName() + " (GGUF)"
                : String.join(", ", store.files().stream().map(f -> dir.relativize(f.path()).toString()).toList()));
        int ctx = c.maxPositionEmbeddings();
        long kv32 = new KvCacheTypes(KvCacheType.F32, KvCacheType.F32).bytesPerPosition(c);
        long kv16 = new KvCacheTypes(KvCacheType.F16, KvCacheType.F16).bytesPerPosition(c);
        out.printf("kv cache      %s per position with f32 keys and values, %s with f16 or bf16 (-ctk/-ctv)%s%n",
                bytesHuman(kv32), bytesHuman(kv16), ctx <= 0 ? "" : String.format(Locale.ROOT,
                        "; %s / %s at all %,d positions", bytesHuman(kv32 * ctx), bytesHuman(kv16 * ctx), ctx));
        out.println("config");
        row(out, "hidden_size", c.hiddenSize());
        row(out, "num_hidden_layers", c.numLayers());
        row(out, "num_attention_heads", c.numHeads());
        row(out, "num_key_value_heads", c.numKvHeads());
        row(out, "head_dim", c.headDim() + (c.headDim() * c.numHeads() != c.hiddenSize() ? " (heads x head_dim != hidden_size)" : ""));
        row(out, "intermediate_size", c.intermediateSize());
        row(out, "vocab_size", c.vocabSize());
        row(out, "rms_norm_eps", c.rmsNormEps());
        row(out, "rope_theta", c.ropeTheta());
        row(out, "rope_scaling", c.ropeScaling() == null ? "none" : c.ropeScaling().isLlama3()
                ? String.format(Locale.ROOT, "llama3 (factor %s, low_freq_factor %s, high_freq_factor %s, original_max_position_embeddings %d)",
                c.ropeScaling().factor(), c.ropeScaling().lowFreqFactor(), c.ropeScaling().highFreqFactor(),
                c.ropeScaling().originalMaxPositionEmbeddings())
                : c.ropeScaling().type() + " (factor " + c.ropeScaling().factor() + ")");
        row(out, "max_position_embeddings", c.maxPositionEmbeddings());
        row(out, "tie_word_embeddings", c.tieWordEmbeddings());
        row(out, "attention_bias", c.attentionBias());
        row(out, "mlp_bias", c.mlpBias());
        row(out, "bos_token_id", c.bosTokenId() == null ? "none" : c.bosTokenId());
        row(out, "eos_token_id", c.eosTokenIds().isEmpty() ? "none" : c.eosTokenIds());
        row(out, "torch_dtype", c.torchDtype() == null ? "none" : c.torchDtype());
        if (problems.isEmpty()) {
            out.println("check         ok: every tensor the config needs is present with the right shape");
        } else {
            out.printf("check         %d problem%s:%n", problems.size(), problems.size() == 1 ? "" : "s");
            problems.forEach(p -> out.println("  " + p));
        }
        List<TensorInfo> tensors = store.all();
        out.printf("tensors (%d)%n", tensors.size());
        int w = tensors.stream().mapToInt(t -> t.name().length()).max().orElse(0);
        boolean sharded = store.files().size() > 1;
        for (TensorInfo t : tensors) {
            out.printf(Locale.ROOT, "  %-" + w + "s  %-4s %6.3f bpw  %s%s%n", t.name(), t.dtype(), bitsPerWeight(t),
                    Arrays.toString(t.shape()), sharded ? "  " + t.file().getFileName() : "");
        }
    }

    /** Tensors the config implies that are missing, have another shape, or are not float. */
    static List<String> check(ModelConfig c, TensorStore store) {
        List<String> problems = new ArrayList<>();
        for (RandomCheckpoint.Planned p : RandomCheckpoint.plan(c, DType.F32)) {
            SafeTensorsWriter.TensorSpec s = p.spec();
            var t = store.find(s.name());
            if (t.isEmpty()) {
                // Llama attention_bias configs may omit o_proj.bias; only q/k/v bias is required
                if (!s.name().endsWith("o_proj.bias")) {
                    problems.add("missing tensor " + s.name() + " " + Arrays.toString(s.shape()));
                }
            } else if (!Arrays.equals(t.get().shape(), s.shape())) {
                problems.add("tensor " + s.name() + " has shape " + Arrays.toString(t.get().shape()) + ", expected "
                        + Arrays.toString(s.shape()));
            } else if (!t.get().dtype().isWeightType()) {
                problems.add("tensor " + s.name() + " has dtype " + t.get().dtype()
                        + ", expected F32, F16, BF16 or a quantized type");
            }
        }
        return problems;
    }

    /** Storage bits per weight: 32, 16, or e.g. 8.5 for Q8_0 and 4.5 for Q4_0 (block scales included). */
    static double bitsPerWeight(TensorInfo t) {
        return t.elementCount() == 0 ? 0 : 8.0 * t.byteSize() / t.elementCount();
    }

    private static void row(PrintWriter out, String k, Object v) {
        out.printf("  %-25s %s%n", k, v);
    }

    static String human(long n) {
        if (n >= 1_000_000_000L) {
            return String.format(Locale.ROOT, "%.2fB", n / 1e9);
        }
        if (n >= 1_000_000L) {
            return String.format(Locale.ROOT, "%.1fM", n / 1e6);
        }
        if (n >= 1_000L) {
            return String.format(Locale.ROOT, "%.1fK", n / 1e3);
        }
        return Long.toString(n);
    }

    static String bytesHuman(long b) {
        if (b >= 1L << 30) {
            return String.format(Locale.ROOT, "%.2f GiB", b / (double) (1L << 30));
        }
        if (b >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", b / (double) (1L << 20));
        }
        if (b >= 1024) {
            return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
        }
        return b + " B";
    }
}

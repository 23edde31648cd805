package dev.rudder.cli;

import dev.rudder.Rudder;
import dev.rudder.steering.extract.VectorExtractor;
import dev.rudder.steering.vectors.LayerRange;
import dev.rudder.steering.vectors.SteeringVectorFiles;
import dev.rudder.steering.vectors.SteeringVectors;
import dev.rudder.steering.vectors.ModelIdentity;
import dev.rudder.steering.vectors.VectorMetadata;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code rudder vectors extract}: steering vectors from contrasting prompt sets. */
@Command(name = "extract", mixinStandardHelpOptions = true,
        description = {"Run two prompt sets and write per-layer steering vectors: the residual stream after every block at",
                "the last prompt token, mean(positive) - mean(negative) (or the first principal component of the paired",
                "differences). The vector measured at the output of block l is saved as direction.l."})
final class VectorsExtractCommand implements Callable<Integer> {
    @Mixin
    ModelOptions modelOptions;

    @Option(names = "--positive", required = true, description = "prompts to steer towards (lines or JSON lines with \"instruction\")")
    Path positive;

    @Option(names = "--negative", required = true, description = "prompts to steer away from")
    Path negative;

    @Option(names = {"-o", "--output"}, required = true, description = "output file (.safetensors, or .gguf for llama.cpp)")
    Path output;

    @Option(names = "--method", defaultValue = "mean", description = "mean or pca (default ${DEFAULT-VALUE})")
    String method;

    @Option(names = "--layers", description = "layers a-b to extract (default: all); stored as the file's default layer range")
    String layers;

    @Option(names = "--scale", description = "default steering strength stored in the file")
    Double scale;

    @Option(names = "--normalize", description = "record that the vectors should be applied at unit length (InferAligner)")
    boolean normalize;

    @Option(names = "--chat", description = "wrap each prompt in the model's chat template with the generation prompt")
    boolean chat;

    @Option(names = "--batch", defaultValue = "8", description = "prompts per layer-major pass (default ${DEFAULT-VALUE}; 1 = one at a time)")
    int batch;

    @Option(names = "--limit", defaultValue = "0", description = "use at most N prompts from each file (0 = all)")
    int limit;

    @Override
    public Integer call() throws Exception {
        VectorExtractor.Method m = switch (method.toLowerCase(Locale.ROOT)) {
            case "mean" -> VectorExtractor.Method.MEAN;
            case "pca" -> VectorExtractor.Method.PCA;
            default -> throw new dev.rudder.runtime.BadInputException("--method must be mean or pca, got " + method);
        };
        LayerRange range = layers == null ? null : LayerRange.parse(layers);
        if (output.getFileName().toString().endsWith(".gguf") && (range == null || range.first() == 0)) {
            // fail before the (long) extraction rather than when writing
            throw new dev.rudder.runtime.BadInputException("llama.cpp control vectors cannot hold direction.0: pass --layers 1-N "
                    + "for a .gguf output, or write .safetensors");
        }
        try (Rudder rudder = Rudder.load(modelOptions.model, modelOptions.loadOptions())) {
            List<int[]> pos = PromptSets.encode(rudder, positive, chat, limit);
            List<int[]> neg = PromptSets.encode(rudder, negative, chat, limit);
            SteeringVectors v = VectorExtractor.extract(rudder.model(), pos, neg, m, range, batch, System.err);
            VectorMetadata meta = v.metadata().withDefaultScale(scale);
            meta = meta.withExtra(ModelIdentity.of(rudder.model()).addTo(meta.extra()));   // the model they were made on
            if (normalize) {
                Map<String, String> extra = new HashMap<>(meta.extra());
                extra.put("rudder.normalize", "true");
                meta = meta.withExtra(extra);
            }
            v = v.withMetadata(meta);
            SteeringVectorFiles.write(output, v);
            System.err.printf(Locale.ROOT, "wrote %d vectors (layers %d-%d, hidden %d) from %d + %d prompts to %s%n",
                    v.size(), v.firstLayer(), v.lastLayer(), v.hiddenSize(), pos.size(), neg.size(), output);
            for (int l : v.layers()) {
                System.err.printf(Locale.ROOT, "  direction.%d  norm %.4f%n", l, v.norm(l));
            }
        }
        return 0;
    }
}

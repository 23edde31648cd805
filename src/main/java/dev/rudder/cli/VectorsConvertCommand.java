package dev.rudder.cli;

import dev.rudder.runtime.BadInputException;
import dev.rudder.steering.vectors.LayerRange;
import dev.rudder.steering.vectors.SteeringVectorFiles;
import dev.rudder.steering.vectors.SteeringVectors;
import dev.rudder.steering.vectors.VectorMetadata;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/** {@code rudder vectors convert IN OUT}: safetensors <-> llama.cpp control-vector GGUF, exact. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert a steering-vector file between Rudder safetensors and llama.cpp control-vector GGUF.",
                "The input format is recognised by content, the output format by extension (.safetensors or .gguf).",
                "Vectors are copied bit for bit; layer numbers keep their meaning (llama.cpp's direction.N is "
                        + "Rudder's direction.N). llama.cpp cannot load direction.0: select layers with --layers."})
final class VectorsConvertCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "IN", description = "input vector file (.safetensors or .gguf)")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "output file: .safetensors (Rudder) or .gguf (llama.cpp)")
    Path out;

    @Option(names = "--layers", paramLabel = "a-b", description = "keep only these layers (0-based, inclusive)")
    String layers;

    @Option(names = "--shift", paramLabel = "N", description = "add N to every layer index; --shift -1 re-indexes "
            + "vectors from llama.cpp's cvector-generator (saved as direction.{block+1}) to the block they were "
            + "measured at. Changes what the file does: use only for such files.")
    int shift;

    @Option(names = "--model-hint", paramLabel = "HINT", description = "set the model hint (e.g. llama)")
    String modelHint;

    @Option(names = "--scale", paramLabel = "S", description = "set the default steering strength")
    Double scale;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        SteeringVectors v = SteeringVectorFiles.read(in);
        if (shift != 0) {
            Map<Integer, float[]> shifted = new TreeMap<>();
            for (int l : v.layers()) {
                if (l + shift < 0) {
                    throw new BadInputException("--shift " + shift + " moves layer " + l + " of " + in
                            + " below 0");
                }
                shifted.put(l + shift, v.vector(l));
            }
            VectorMetadata md = v.metadata();
            if (md.layers() != null) {
                md = md.withLayers(md.layers().first() + shift < 0 ? null
                        : new LayerRange(md.layers().first() + shift, md.layers().last() + shift));
            }
            v = SteeringVectors.of(shifted, md, v.source());
        }
        if (layers != null) {
            v = v.select(LayerRange.parse(layers));
        }
        VectorMetadata md = v.metadata();
        if (modelHint != null) {
            md = md.withModelHint(modelHint);
        }
        if (scale != null) {
            md = md.withDefaultScale(scale);
        }
        v = v.withMetadata(md);
        SteeringVectorFiles.Format f = SteeringVectorFiles.Format.byExtension(out);
        SteeringVectorFiles.write(out, v);
        spec.commandLine().getOut().printf("wrote %d vector%s (layers %s, hidden size %d) to %s (%s)%n", v.size(),
                v.size() == 1 ? "" : "s", VectorsInfoCommand.layerList(v.layers()), v.hiddenSize(), out,
                f == SteeringVectorFiles.Format.GGUF ? "llama.cpp control vector GGUF" : "Rudder safetensors");
        spec.commandLine().getOut().flush();
        return 0;
    }
}

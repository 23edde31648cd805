package dev.rudder.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rudder.steering.vectors.SteeringVectorFiles;
import dev.rudder.steering.vectors.SteeringVectors;
import dev.rudder.steering.vectors.VectorMetadata;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code rudder vectors info FILE}: format, hidden size, layers, per-layer norms and metadata of a vector file. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show what a steering-vector file holds: format, hidden size, layers with their L2 norms, "
                + "metadata.")
final class VectorsInfoCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE", description = "vector file (.safetensors or .gguf, by content)")
    Path file;

    @Option(names = "--json", description = "print one JSON object instead of text")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        SteeringVectorFiles.Format format = SteeringVectorFiles.sniff(file);
        SteeringVectors v = SteeringVectorFiles.read(file);
        VectorMetadata md = v.metadata();
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            ObjectMapper m = new ObjectMapper();
            ObjectNode o = m.createObjectNode();
            o.put("file", file.toString());
            o.put("format", format == SteeringVectorFiles.Format.GGUF ? "gguf" : "safetensors");
            o.put("hidden_size", v.hiddenSize());
            var layers = o.putArray("layers");
            for (int l : v.layers()) {
                layers.addObject().put("layer", l).put("norm", v.norm(l)).put("max_abs", maxAbs(v, l));
            }
            ObjectNode meta = o.putObject("metadata");
            if (md.modelHint() != null) {
                meta.put("model_hint", md.modelHint());
            }
            if (md.method() != null) {
                meta.put("method", md.method());
            }
            if (md.layers() != null) {
                meta.put("layers", md.layers().toString());
            }
            if (md.defaultScale() != null) {
                meta.put("scale", md.defaultScale());
            }
            if (md.promptCount() != null) {
                meta.put("prompts", md.promptCount());
            }
            ObjectNode extra = meta.putObject("extra");
            md.extra().forEach(extra::put);
            out.println(m.writerWithDefaultPrettyPrinter().writeValueAsString(o));
        } else {
            out.printf("file:         %s%n", file);
            out.printf("format:       %s%n", format == SteeringVectorFiles.Format.GGUF
                    ? "llama.cpp control vector (GGUF)" : "Rudder steering vectors (safetensors)");
            out.printf("hidden size:  %d%n", v.hiddenSize());
            out.printf("layers:       %s (%d vector%s; direction.N is added to the output of 0-based block N)%n",
                    layerList(v.layers()), v.size(), v.size() == 1 ? "" : "s");
            out.printf("model hint:   %s%n", orDash(md.modelHint()));
            out.printf("method:       %s%n", orDash(md.method()));
            out.printf("layer range:  %s%n", md.layers() == null ? "-" : md.layers().toString());
            out.printf("scale:        %s%n", md.defaultScale() == null ? "-" : md.defaultScale().toString());
            out.printf("prompts:      %s%n", md.promptCount() == null ? "-" : md.promptCount().toString());
            md.extra().forEach((k, val) -> out.printf("%-13s %s%n", k + ":", val));
            out.printf("%n%5s  %12s  %12s%n", "layer", "L2 norm", "max |x|");
            for (int l : v.layers()) {
                out.printf(Locale.ROOT, "%5d  %12.6f  %12.6f%n", l, v.norm(l), maxAbs(v, l));
            }
        }
        out.flush();
        return 0;
    }

    private static String orDash(String s) {
        return s == null ? "-" : s;
    }

    private static double maxAbs(SteeringVectors v, int layer) {
        double m = 0;
        for (float x : v.vector(layer)) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    /** Layers as compact ranges: {@code 1-3, 5, 7-9}. */
    static String layerList(int[] layers) {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        while (i < layers.length) {
            int j = i;
            while (j + 1 < layers.length && layers[j + 1] == layers[j] + 1) {
                j++;
            }
            sb.append(sb.length() == 0 ? "" : ", ").append(layers[i]);
            if (j > i) {
                sb.append('-').append(layers[j]);
            }
            i = j + 1;
        }
        return sb.toString();
    }
}

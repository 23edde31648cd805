package dev.rudder.cli;

import dev.rudder.LoadOptions;
import dev.rudder.Rudder;
import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.steer.SteeringPlan;
import dev.rudder.runtime.steer.SteeringReport;
import dev.rudder.steering.apply.SteeringSpec;
import dev.rudder.steering.delta.DeltaSet;
import dev.rudder.steering.inferaligner.GuidanceGate;
import dev.rudder.runtime.io.SafeTensorsFile;
import dev.rudder.steering.vectors.LayerRange;
import dev.rudder.steering.vectors.ModelIdentity;
import dev.rudder.steering.vectors.SteeringVectorFiles;
import dev.rudder.steering.vectors.SteeringVectors;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Steering flags shared by generate, chat and eval: vectors, layers, gate, positions, alignment deltas. */
final class SteeringOptions {

    @Option(names = "--steer", paramLabel = "FILE[:SCALE]",
            description = "steering vectors (.safetensors or llama.cpp control-vector .gguf); SCALE defaults to the file's "
                    + "rudder.scale metadata, else 1")
    String steer;

    @Option(names = "--layers", paramLabel = "A-B", description = "steer only these 0-based blocks (default: the file's layer range)")
    String layers;

    @Option(names = "--gate", paramLabel = "FILE", description = "InferAligner gate from `rudder align calibrate`: steer only requests it flags")
    Path gate;

    @Option(names = "--steer-positions", defaultValue = "prompt", paramLabel = "prompt|generated|all",
            description = "which positions get the vectors (default: ${DEFAULT-VALUE})")
    String positions;

    @Option(names = "--steer-at", defaultValue = "block", paramLabel = "block|attn",
            description = "add after the block (llama.cpp l_out, default) or right after the attention residual add")
    String at;

    @Option(names = "--normalize", description = "use unit-length vectors (InferAligner's theta/||theta||); also on when the file's metadata says rudder.normalize=true")
    boolean normalize;

    @Option(names = "--delta", paramLabel = "FILE:LAMBDA", description = "alignment vector merged as W + LAMBDA * delta (repeatable)")
    List<String> deltas = new ArrayList<>();

    /** The alignment deltas as parsed specs (the files are opened by {@link Rudder#load}). */
    List<DeltaSet.Spec> deltaSpecs() {
        return deltas.stream().map(DeltaSet.Spec::parse).toList();
    }

    /** Load options: the model's threads and device plus these deltas. */
    LoadOptions loadOptions(ModelOptions m) {
        return m.loadOptions().withDeltas(deltaSpecs());
    }

    boolean active() {
        return steer != null;
    }

    /**
     * The steering request, read and checked before any model is loaded (vector files, scale,
     * gate); null when there is no {@code --steer}. {@link SteeringSpec#toPlan} then checks it
     * against the model.
     */
    SteeringSpec spec() {
        if (steer == null) {
            if (gate != null || layers != null) {
                throw new BadInputException("--gate and --layers need --steer FILE");
            }
            return null;
        }
        String file = steer;
        Double scale = null;
        int colon = steer.lastIndexOf(':');
        if (colon > 0 && !java.nio.file.Files.exists(Path.of(steer))) {
            file = steer.substring(0, colon);
            try {
                scale = Double.parseDouble(steer.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new BadInputException("--steer " + steer + ": scale '" + steer.substring(colon + 1) + "' is not a number");
            }
        }
        SteeringVectors vectors;
        try {
            vectors = SteeringVectorFiles.read(Path.of(file));
        } catch (IOException e) {
            throw new BadInputException("cannot read vector file " + file + ": " + e.getMessage(), e);
        }
        boolean norm = normalize || "true".equals(vectors.metadata().extra().get("rudder.normalize"));
        return new SteeringSpec(vectors, scale, layers == null ? null : LayerRange.parse(layers), norm,
                point(), positions(), gate == null ? null : GuidanceGate.read(gate));
    }

    /**
     * The plan for a loaded model ({@link SteeringPlan#NONE} without a spec). Shapes that disagree
     * are errors; vectors or a gate recorded as made on another model of the same shape get a
     * warning on stderr.
     */
    SteeringPlan plan(SteeringSpec spec, Rudder rudder) {
        if (spec == null) {
            return SteeringPlan.NONE;
        }
        SteeringPlan plan = spec.toPlan(rudder.config());
        ModelIdentity here = ModelIdentity.of(rudder.model());
        ModelIdentity.fromMetadata(spec.vectors().metadata().extra())
                .flatMap(made -> here.mismatchWarning(made, "vector file " + spec.vectors().source()))
                .ifPresent(w -> System.err.println("rudder: warning: " + w));
        if (gate != null) {
            try (SafeTensorsFile f = SafeTensorsFile.open(gate)) {
                ModelIdentity.fromMetadata(f.metadata()).flatMap(made -> here.mismatchWarning(made, "gate file " + gate))
                        .ifPresent(w -> System.err.println("rudder: warning: " + w));
            }
        }
        return plan;
    }

    SteeringPlan.Positions positions() {
        return switch (positions.toLowerCase(Locale.ROOT)) {
            case "prompt" -> SteeringPlan.Positions.PROMPT;
            case "generated" -> SteeringPlan.Positions.GENERATED;
            case "all" -> SteeringPlan.Positions.ALL;
            default -> throw new BadInputException("--steer-positions must be prompt, generated or all, got " + positions);
        };
    }

    SteeringSpec.Point point() {
        return switch (at.toLowerCase(Locale.ROOT)) {
            case "block" -> SteeringSpec.Point.BLOCK_OUTPUT;
            case "attn" -> SteeringSpec.Point.AFTER_ATTENTION;
            default -> throw new BadInputException("--steer-at must be block or attn, got " + at);
        };
    }

    /** One line on stderr about the gate, when there is one. */
    void report(SteeringReport r, PrintStream err) {
        if (gate != null && steer != null) {
            err.printf(Locale.ROOT, "gate: %s (score %.3f)%s%n", r.gateOpen() ? "open, steering" : "closed, not steering",
                    r.gateScore(), r.recomputed() ? "; steered layers at or below the gate layer were recomputed" : "");
        }
    }
}

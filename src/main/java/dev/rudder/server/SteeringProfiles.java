package dev.rudder.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.steer.SteeringPlan;
import dev.rudder.steering.apply.SteeringSpec;
import dev.rudder.steering.inferaligner.GuidanceGate;
import dev.rudder.steering.vectors.LayerRange;
import dev.rudder.steering.vectors.SteeringVectorFiles;
import dev.rudder.steering.vectors.SteeringVectors;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The steering setups an operator registers for {@code rudder serve}, by name. The file is a JSON
 * object of profiles, each with the steering options of {@code rudder generate} (file paths
 * relative to the profiles file):
 * <pre>{"safe": {"steer": "srv.safetensors", "scale": 16, "layers": "1-3", "normalize": true,
 *           "gate": "gate.safetensors", "positions": "prompt", "at": "block"}}</pre>
 * Plans are built once at start-up against the loaded model and shared by every request.
 * Alignment-vector deltas change the weights, so they are server-wide ({@code serve --delta}).
 */
public final class SteeringProfiles {
    /** The name a request uses to ask for no steering at all. */
    public static final String NONE = "none";

    /** A named plan; {@code gated} tells whether the plan has an InferAligner gate. */
    public record Profile(String name, SteeringPlan plan, boolean gated) {
    }

    private static final Set<String> FIELDS = Set.of("steer", "scale", "layers", "normalize", "gate", "positions", "at");
    private static final Profile UNSTEERED = new Profile(NONE, SteeringPlan.NONE, false);

    private final Map<String, Profile> byName;

    private SteeringProfiles(Map<String, Profile> byName) {
        this.byName = Collections.unmodifiableMap(byName);
    }

    public static SteeringProfiles empty() {
        return new SteeringProfiles(new LinkedHashMap<>());
    }

    public static SteeringProfiles of(Map<String, Profile> profiles) {
        return new SteeringProfiles(new LinkedHashMap<>(profiles));
    }

    /** Reads the profiles file and builds every plan against {@code config}; any problem names the file and profile. */
    public static SteeringProfiles read(Path file, ModelConfig config) {
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            throw new BadInputException("profiles file " + file + " is not valid JSON: " + e.getMessage(), e);
        }
        if (root == null || !root.isObject()) {
            throw new BadInputException("profiles file " + file + " must hold a JSON object {\"name\": {\"steer\": ...}, ...}");
        }
        Path base = file.toAbsolutePath().getParent();
        Map<String, Profile> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            String where = "profiles file " + file + ", profile \"" + name + "\"";
            if (name.equals(NONE) || name.isBlank()) {
                throw new BadInputException(where + ": the name \"" + name + "\" is reserved (it means no steering)");
            }
            try {
                out.put(name, new Profile(name, plan(e.getValue(), base, config), e.getValue().hasNonNull("gate")));
            } catch (BadInputException ex) {
                throw new BadInputException(where + ": " + ex.getMessage(), ex);
            }
        }
        return new SteeringProfiles(out);
    }

    private static SteeringPlan plan(JsonNode p, Path base, ModelConfig config) {
        if (!p.isObject()) {
            throw new BadInputException("must be an object with the fields " + FIELDS);
        }
        p.fieldNames().forEachRemaining(f -> {
            if (!FIELDS.contains(f)) {
                throw new BadInputException("unknown field \"" + f + "\" (known: " + FIELDS + ")");
            }
        });
        if (!p.hasNonNull("steer")) {
            throw new BadInputException("needs \"steer\": a vector file");
        }
        Path vectorFile = base.resolve(text(p, "steer"));
        SteeringVectors vectors;
        try {
            vectors = SteeringVectorFiles.read(vectorFile);
        } catch (IOException e) {
            throw new BadInputException("cannot read vector file " + vectorFile + ": " + e.getMessage(), e);
        }
        Double scale = null;
        if (p.has("scale")) {
            if (!p.get("scale").isNumber()) {
                throw new BadInputException("\"scale\" must be a number");
            }
            scale = p.get("scale").asDouble();
        }
        LayerRange layers = p.hasNonNull("layers") ? LayerRange.parse(text(p, "layers")) : null;
        boolean normalize = p.path("normalize").asBoolean(false)
                || "true".equals(vectors.metadata().extra().get("rudder.normalize"));
        GuidanceGate gate = p.hasNonNull("gate") ? GuidanceGate.read(base.resolve(text(p, "gate"))) : null;
        SteeringPlan.Positions positions = switch (p.path("positions").asText("prompt").toLowerCase(Locale.ROOT)) {
            case "prompt" -> SteeringPlan.Positions.PROMPT;
            case "generated" -> SteeringPlan.Positions.GENERATED;
            case "all" -> SteeringPlan.Positions.ALL;
            default -> throw new BadInputException("\"positions\" must be prompt, generated or all");
        };
        SteeringSpec.Point point = switch (p.path("at").asText("block").toLowerCase(Locale.ROOT)) {
            case "block" -> SteeringSpec.Point.BLOCK_OUTPUT;
            case "attn" -> SteeringSpec.Point.AFTER_ATTENTION;
            default -> throw new BadInputException("\"at\" must be block or attn");
        };
        return new SteeringSpec(vectors, scale, layers, normalize, point, positions, gate).toPlan(config);
    }

    private static String text(JsonNode p, String field) {
        JsonNode v = p.get(field);
        if (!v.isTextual()) {
            throw new BadInputException("\"" + field + "\" must be a string");
        }
        return v.asText();
    }

    public Set<String> names() {
        return byName.keySet();
    }

    public boolean contains(String name) {
        return byName.containsKey(name);
    }

    /** The profile called {@code name}; {@link #NONE} is always the unsteered model. */
    public Profile get(String name) {
        if (NONE.equals(name)) {
            return UNSTEERED;
        }
        Profile p = byName.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no profile " + name);
        }
        return p;
    }
}

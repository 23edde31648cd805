package dev.rudder.server;

import dev.rudder.ChatMessage;
import dev.rudder.Rudder;
import dev.rudder.cli.RudderCli;
import dev.rudder.runtime.io.OutputPaths;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.steering.inferaligner.GateCalibrator;
import dev.rudder.steering.prompts.PromptFile;
import dev.rudder.steering.vectors.SteeringVectorFiles;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What the server tests share: the rudder-chat target model, and a profiles file in a temporary
 * folder with "safe" (InferAligner: the aligned model's golden vectors, a gate calibrated here on
 * a few val prompts from the target's own golden vectors) and "always" (the same vectors, no gate).
 */
final class ServerFixture {
    static final Path SHARED = Path.of(System.getProperty("rudder.shared", "../../shared"));
    static final Path TARGET = SHARED.resolve("models/rudder-chat/target");
    static final Path PROMPTS = SHARED.resolve("prompts");
    static final Path VECTORS = SHARED.resolve("golden/steering/extraction/rudder-chat-aligned.mean_diff.safetensors");
    static final int THREADS = 2;

    private static Path dir;

    private ServerFixture() {
    }

    /** The folder with profiles.json, gate.safetensors and aligned.safetensors (made once per JVM). */
    static synchronized Path profilesDir() {
        if (dir != null) {
            return dir;
        }
        try {
            Path d = Files.createTempDirectory("rudder-serve-test");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> OutputPaths.deleteTree(d)));
            Files.copy(VECTORS, d.resolve("aligned.safetensors"));
            try (Rudder target = Rudder.load(TARGET, THREADS, null)) {
                var own = SteeringVectorFiles.read(SHARED.resolve("golden/steering/extraction/rudder-chat-target.mean_diff.safetensors"));
                List<int[]> harmful = chat(target, PROMPTS.resolve("harmful_val.jsonl"), 24);
                List<int[]> harmless = chat(target, PROMPTS.resolve("harmless_val.jsonl"), 24);
                GateCalibrator.calibrate(target.model(), own, harmful, harmless, null, null).gate().write(d.resolve("gate.safetensors"));
            }
            Files.writeString(d.resolve("profiles.json"), """
                    {"safe":   {"steer": "aligned.safetensors", "scale": 16, "layers": "1-3", "normalize": true, "gate": "gate.safetensors"},
                     "always": {"steer": "aligned.safetensors", "scale": 16, "layers": "1-3", "normalize": true, "positions": "prompt"}}
                    """);
            dir = d;
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path profilesFile() {
        return profilesDir().resolve("profiles.json");
    }

    static Rudder loadTarget() {
        return Rudder.load(TARGET, THREADS, null);
    }

    static SteeringProfiles profiles(Rudder r) {
        return SteeringProfiles.read(profilesFile(), r.config());
    }

    static List<int[]> chat(Rudder r, Path file, int limit) {
        List<int[]> out = new ArrayList<>();
        for (PromptFile.Prompt p : PromptFile.read(file, limit)) {
            PromptInput in = r.encodeChat(List.of(ChatMessage.user(p.instruction())));
            out.add(in.tokenIds().stream().mapToInt(Integer::intValue).toArray());
        }
        return out;
    }

    static List<String> instructions(String file, int limit) {
        return PromptFile.read(PROMPTS.resolve(file), limit).stream().map(PromptFile.Prompt::instruction).toList();
    }

    /** {@code rudder ARGS} in this JVM: exit code, stdout, stderr. */
    record Cli(int code, String out, String err) {
    }

    static synchronized Cli rudder(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = RudderCli.execute(args);
            return new Cli(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }
}

package dev.rudder.cli;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.io.OutputPaths;
import dev.rudder.runtime.io.RandomCheckpoint;

import java.io.IOException;
import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The training run for the JDK's ahead-of-time cache (JEP 483/514/515), run by the {@code rudder}
 * launcher once after each build with {@code -XX:AOTCacheOutput}: what a one-shot command does
 * (parse options, load a model, prefill, decode, sample), on a tiny random model, so that the
 * next starts find those classes loaded. It also writes the {@link KernelWarmup} model into the folder given as
 * the first argument (if any), where the launcher points later starts at it, and runs that warm-up once.
 * Not a user command.
 *
 * <p>What the cache holds with JDK 25: the classes, loaded but not linked, and no method profiles. Linking and
 * profiles (JEPs 483/515) need the archived full module graph, which the JVM turns off under
 * {@code --add-modules jdk.incubator.vector} ("archivedBootLayer not available, disabling full module graph" in
 * {@code -Xlog:aot}); picocli's classes (class file version 49) are left out ("Old class has been linked").
 */
public final class AotTraining {
    private AotTraining() {
    }

    public static void main(String[] args) throws IOException {
        Path dir = Files.createTempDirectory("rudder-aot-training");
        PrintStream out = System.out;
        try {
            System.setOut(new PrintStream(OutputStream.nullOutputStream()));
            Path warmup = args.length > 0 ? Path.of(args[0]) : dir.resolve("warmup");
            Files.createDirectories(warmup);
            KernelWarmup.write(warmup);
            KernelWarmup.run(2, Long.MAX_VALUE / 4, 2, warmup, false);
            KernelWarmup.run(2, Long.MAX_VALUE / 4, 2, warmup, true);
            for (DType d : new DType[] {DType.BF16, DType.F32}) {
                Path m = dir.resolve(d.name());
                RandomCheckpoint.write(m, "tiny", d, 1, null);
                String ids = IntStream.range(0, 140).mapToObj(i -> Integer.toString(3 + i * 7 % 1000))
                        .collect(Collectors.joining(","));
                for (int rep = 0; rep < 3; rep++) {
                    RudderCli.execute("generate", "-m", m.toString(), "--prompt-ids", ids, "-n", "48",
                            "--temperature", rep == 0 ? "0" : "0.8", "--ignore-eos");
                }
                RudderCli.execute("bench", "-m", m.toString(), "-p", "64", "-n", "16", "-r", "2", "--bandwidth-mib", "0");
            }
        } finally {
            System.setOut(out);
            OutputPaths.deleteTree(dir);
        }
    }
}

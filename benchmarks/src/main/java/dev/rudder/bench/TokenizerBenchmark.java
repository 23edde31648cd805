package dev.rudder.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.rudder.tokenizer.Tokenizer;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Tokenizer encode throughput, single-threaded, over the texts of the golden tokenizer corpus
 * ({@code shared/golden/tokenizer/smollm2.jsonl}, 490 texts, 47,653 bytes of UTF-8).
 *
 * <ul>
 * <li>{@code family}: {@code smollm2} (byte-level BPE, GPT-2 regex + digits) and {@code mistral} (SentencePiece-style
 * BPE with byte fallback, the Llama-2 family), plus {@code llama3} for reference.</li>
 * <li>{@code cache}: words cached by the BPE model ({@code 0}: every word is merged from scratch, the cold cost;
 * {@code 100000}: the default, a warm cache as in a long-running server).</li>
 * </ul>
 * One op encodes the whole corpus. The {@code mbPerSec} counter is the throughput in MB (10^6 bytes) of UTF-8 per
 * second; equivalently <b>MB/s = ops/s &times; corpus bytes / 1e6</b> (the corpus size is printed at setup).
 *
 * <pre>
 * mvn -B -q -Drudder.target=target-tok -pl benchmarks -am package -DskipTests
 * java --add-modules jdk.incubator.vector -jar benchmarks/target-tok/benchmarks.jar TokenizerBenchmark -f 1 -wi 2 -i 3
 * </pre>
 * Test data is found via {@code -Drudder.shared=PATH} or {@code ../shared} / {@code ../../shared}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
public class TokenizerBenchmark {

    @State(Scope.Benchmark)
    public static class Corpus {
        @Param({"smollm2", "mistral", "llama3"})
        public String family;

        @Param({"0", "100000"})
        public int cache;

        Tokenizer tokenizer;
        List<String> texts;
        long bytes;

        @Setup(Level.Trial)
        public void load() throws IOException {
            System.setProperty("rudder.tokenizer.cache", Integer.toString(cache));
            Path shared = shared();
            tokenizer = Tokenizer.fromModelDir(shared.resolve("models/tokenizers").resolve(family));
            texts = new ArrayList<>();
            ObjectMapper json = new ObjectMapper();
            for (String line : Files.readAllLines(shared.resolve("golden/tokenizer/smollm2.jsonl"))) {
                if (!line.isBlank()) {
                    String t = json.readTree(line).get("text").asText();
                    texts.add(t);
                    bytes += t.getBytes(StandardCharsets.UTF_8).length;
                }
            }
            System.out.printf("%ncorpus: %d texts, %d bytes of UTF-8 (%s, cache %d)%n", texts.size(), bytes, family, cache);
        }

        static Path shared() {
            String p = System.getProperty("rudder.shared");
            if (p != null) {
                return Path.of(p);
            }
            for (String c : new String[]{"../shared", "../../shared", "shared"}) {
                if (Files.isDirectory(Path.of(c, "golden"))) {
                    return Path.of(c);
                }
            }
            throw new IllegalStateException("shared test data not found; pass -Drudder.shared=PATH (jvmArgs)");
        }
    }

    /** Reports MB of UTF-8 encoded per second next to ops/s. */
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Throughput {
        public double mbPerSec;
    }

    @Benchmark
    public void encode(Corpus c, Throughput t, Blackhole bh) {
        for (String s : c.texts) {
            bh.consume(c.tokenizer.encode(s, false));
        }
        t.mbPerSec += c.bytes / 1e6;
    }
}

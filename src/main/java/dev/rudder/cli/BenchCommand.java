package dev.rudder.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.rudder.errors.UsageException;
import dev.rudder.runtime.backend.cpu.CpuBackend;
import dev.rudder.runtime.kernel.MemoryBandwidth;
import dev.rudder.runtime.model.LayerWeights;
import dev.rudder.runtime.model.Model;
import dev.rudder.runtime.model.ModelWeights;
import dev.rudder.runtime.model.PromptInput;
import dev.rudder.runtime.model.Session;
import dev.rudder.runtime.parallel.WorkerPool;
import dev.rudder.runtime.steer.SteeringPlan;
import dev.rudder.runtime.tensor.WeightMatrix;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * {@code rudder bench}, the job of llama-bench: per thread count, a warm-up, then {@code -r}
 * repetitions of a {@code -p}-token prefill and an {@code -n}-token decode in fresh sessions;
 * mean and standard deviation of tokens/s; the weight bytes a decoded token reads; and this
 * machine's read bandwidth measured here, with decode shown as a fraction of it.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure prefill and decode speed (tokens/s) and compare decode with the machine's read bandwidth.")
final class BenchCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, description = "Hugging Face model folder or GGUF file")
    Path model;

    @Option(names = {"-p", "--n-prompt"}, split = ",", defaultValue = "128",
            description = "prompt tokens to prefill, comma-separated for several tests (default ${DEFAULT-VALUE}; 0 skips prefill)")
    int[] prompts;

    @Option(names = {"-n", "--n-gen"}, split = ",", defaultValue = "128",
            description = "tokens to decode after the prompt, comma-separated for several tests (default ${DEFAULT-VALUE}; 0 skips decode)")
    int[] gens;

    @Option(names = {"-d", "--n-depth"}, split = ",", defaultValue = "0",
            description = "tokens already in the KV cache before each test (untimed prefill), comma-separated, as llama-bench's"
                    + " -d (default ${DEFAULT-VALUE}): speed at a long context")
    int[] depths;

    @Option(names = {"-t", "--threads"}, split = ",", description = "thread counts, comma-separated (default: available processors)")
    int[] threads;

    @Option(names = {"-r", "--repetitions"}, defaultValue = "5", description = "repetitions per test (default ${DEFAULT-VALUE})")
    int repetitions;

    @Option(names = "--json", description = "print JSON: one object per thread count and -p/-n pair (an array when there are several)")
    boolean json;

    @Mixin
    KvCacheOptions cache;

    @Option(names = "--bandwidth-mib", defaultValue = "1024", description = "buffer for the read-bandwidth measurement, MiB (default ${DEFAULT-VALUE}; 0 skips it)")
    int bandwidthMib;

    /** One test's results: a thread count, a prompt length, a decode length. */
    record Result(int threads, int depth, int prompt, int gen, Stats prefill, Stats decode, long bytesPerToken,
                  double bandwidth) {
    }

    /** Mean and sample standard deviation of tokens/s over the repetitions (NaN when not run). */
    record Stats(double mean, double stddev) {
        static Stats of(double[] xs) {
            if (xs.length == 0) {
                return new Stats(Double.NaN, Double.NaN);
            }
            double m = 0;
            for (double x : xs) {
                m += x;
            }
            m /= xs.length;
            double v = 0;
            for (double x : xs) {
                v += (x - m) * (x - m);
            }
            return new Stats(m, xs.length > 1 ? Math.sqrt(v / (xs.length - 1)) : 0);
        }
    }

    @Override
    public Integer call() throws Exception {
        int[] counts = threads == null ? new int[] {WorkerPool.defaultThreads()} : threads;
        validate(counts);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        List<Result> results = new ArrayList<>();
        for (int t : counts) {
            try (Model m = Model.load(model, t, null, null, CpuBackend::new, cache.types())) {
                int maxCtx = m.config().maxPositionEmbeddings();
                for (int d : depths) {
                    for (int p : prompts) {
                        for (int n : gens) {
                            if (maxCtx > 0 && d + p + n + 1 > maxCtx) {
                                throw new UsageException((d > 0 ? "-d " + d + " plus " : "") + "-p " + p + " plus -n " + n
                                        + " needs a context of " + (d + p + n + 1) + " tokens; the model allows " + maxCtx);
                            }
                        }
                    }
                }
                // every -d with every -p with every -n (as llama-bench pairs its lists); a decode runs after its prompt
                for (int d : depths) {
                    for (int p : prompts) {
                        for (int n : gens) {
                            if (p == 0 && n == 0) {
                                continue;
                            }
                            results.add(run(m, t, d, p, n));
                            if (!json) {
                                printText(out, results.getLast(), results.size() == 1);
                            }
                        }
                    }
                }
            }
        }
        if (json) {
            out.println(toJson(results));
        }
        return 0;
    }

    private void validate(int[] counts) {
        if (prompts.length == 0 || gens.length == 0) {
            throw new UsageException("-p and -n need at least one value each");
        }
        boolean any = false;
        for (int p : prompts) {
            for (int n : gens) {
                if (p < 0 || n < 0) {
                    throw new UsageException("-p and -n must be >= 0 (got -p " + p + ", -n " + n + ")");
                }
                any |= p > 0 || n > 0;
            }
        }
        if (!any) {
            throw new UsageException("nothing to measure: -p and -n are both 0");
        }
        for (int d : depths) {
            if (d < 0) {
                throw new UsageException("-d must be >= 0, got " + d);
            }
        }
        if (repetitions < 1) {
            throw new UsageException("-r must be >= 1, got " + repetitions);
        }
        if (counts.length == 0) {
            throw new UsageException("-t needs at least one thread count");
        }
        for (int t : counts) {
            if (t < 1 || t > 1024) {
                throw new UsageException("thread counts must be 1..1024, got " + t);
            }
        }
        if (bandwidthMib < 0) {
            throw new UsageException("--bandwidth-mib must be >= 0, got " + bandwidthMib);
        }
    }

    private Result run(Model m, int t, int depth, int prompt, int gen) {
        int vocab = m.config().vocabSize();
        Random rnd = new Random(42);
        int[] context = new int[depth];
        for (int i = 0; i < depth; i++) {
            context[i] = 1 + rnd.nextInt(vocab - 1);
        }
        int[] ids = new int[prompt];
        for (int i = 0; i < prompt; i++) {
            ids[i] = 1 + rnd.nextInt(vocab - 1);
        }
        once(m, context, ids, gen, null, null, 0);          // warm-up (JIT, page cache, scratch buffers)
        double[] pp = new double[prompt > 0 ? repetitions : 0];
        double[] tg = new double[gen > 0 ? repetitions : 0];
        double bw = Double.NaN;
        if (bandwidthMib == 0) {
            for (int r = 0; r < repetitions; r++) {
                once(m, context, ids, gen, pp, tg, r);
            }
        } else {
            // one bandwidth pass after each repetition (at least three): the ratio compares like moments
            double[] passes = new double[Math.max(3, repetitions)];
            try (WorkerPool pool = new WorkerPool(t); MemoryBandwidth probe = new MemoryBandwidth((long) bandwidthMib << 20, t)) {
                probe.pass(pool);                          // warm-up
                for (int r = 0; r < passes.length; r++) {
                    if (r < repetitions) {
                        once(m, context, ids, gen, pp, tg, r);
                    }
                    passes[r] = probe.pass(pool);
                }
            }
            bw = median(passes);
        }
        return new Result(t, depth, prompt, gen, Stats.of(pp), Stats.of(tg), bytesPerToken(m.weights()), bw);
    }

    /**
     * A fresh session holding {@code context} (prefilled, untimed), then one prefill of {@code ids} and a decode of
     * {@code gen} tokens; tokens/s go to pp[r] and tg[r] when given.
     */
    private void once(Model m, int[] context, int[] ids, int gen, double[] pp, double[] tg, int r) {
        int prompt = ids.length;
        Session s = m.newSession(context.length + prompt + gen + 1, SteeringPlan.NONE);
        if (context.length > 0) {
            s.prefill(PromptInput.tokens(context));
        }
        if (prompt > 0) {
            long t0 = System.nanoTime();
            s.prefill(PromptInput.tokens(ids));
            if (pp != null) {
                pp[r] = prompt * 1e9 / (System.nanoTime() - t0);
            }
        }
        if (gen > 0) {
            int vocab = m.config().vocabSize();
            int token = 1;
            long t0 = System.nanoTime();
            for (int i = 0; i < gen; i++) {
                s.decode(token);
                token = (int) ((token * 31L + 7) % (vocab - 1)) + 1;
            }
            if (tg != null) {
                tg[r] = gen * 1e9 / (System.nanoTime() - t0);
            }
        }
    }

    static double median(double[] xs) {
        double[] c = xs.clone();
        java.util.Arrays.sort(c);
        int n = c.length;
        return n % 2 == 1 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    }

    /** Weight bytes one decoded token reads: every layer's matrices and the output matrix (one embedding row aside). */
    static long bytesPerToken(ModelWeights w) {
        long b = w.lmHead().byteSize();
        for (int l = 0; l < w.numLayers(); l++) {
            LayerWeights lw = w.layer(l);
            for (WeightMatrix x : new WeightMatrix[] {lw.wq(), lw.wk(), lw.wv(), lw.wo(), lw.wGate(), lw.wUp(), lw.wDown()}) {
                b += x.byteSize();
            }
        }
        return b;
    }

    private void printText(PrintStream out, Result r, boolean header) {
        if (header) {
            out.printf(Locale.ROOT, "model: %s, %.1f MB of weights read per decoded token, KV cache %s%n", model,
                    r.bytesPerToken() / 1e6, cache.types());
            out.printf(Locale.ROOT, "%7s  %-14s %18s  %s%n", "threads", "test", "tokens/s", "");
        }
        if (r.prompt() > 0) {
            String test = "pp" + r.prompt() + (r.depth() > 0 ? " @ d" + r.depth() : "");
            out.printf(Locale.ROOT, "%7d  %-14s %10.1f ± %5.1f%n", r.threads(), test, r.prefill().mean(), r.prefill().stddev());
        }
        if (r.gen() > 0) {
            double gbs = r.decode().mean() * r.bytesPerToken() / 1e9;
            String bw = Double.isNaN(r.bandwidth()) ? String.format(Locale.ROOT, "%.1f GB/s of weights", gbs)
                    : String.format(Locale.ROOT, "%.1f GB/s of weights = %.2f of read bandwidth %.1f GB/s", gbs,
                    gbs / (r.bandwidth() / 1e9), r.bandwidth() / 1e9);
            // after a prompt the decode attends to it: llama-bench calls that depth ("tg128 @ d512")
            int at = r.depth() + r.prompt();
            String test = "tg" + r.gen() + (at > 0 && (prompts.length > 1 || r.depth() > 0) ? " @ d" + at : "");
            out.printf(Locale.ROOT, "%7d  %-14s %10.1f ± %5.1f  %s%n", r.threads(), test, r.decode().mean(), r.decode().stddev(), bw);
        }
    }

    private String toJson(List<Result> results) throws Exception {
        ObjectMapper mapper = new ObjectMapper();
        ArrayNode arr = mapper.createArrayNode();
        for (Result r : results) {
            ObjectNode o = arr.addObject();
            o.put("model", model.toString());
            o.put("threads", r.threads());
            o.put("repetitions", repetitions);
            o.put("depth", r.depth());
            o.put("prompt_tokens", r.prompt());
            o.put("decode_tokens", r.gen());
            number(o, "prefill_tokens_per_second", r.prefill().mean());
            number(o, "prefill_tokens_per_second_stddev", r.prefill().stddev());
            number(o, "decode_tokens_per_second", r.decode().mean());
            number(o, "decode_tokens_per_second_stddev", r.decode().stddev());
            o.put("type_k", cache.keys.label());
            o.put("type_v", cache.values.label());
            o.put("bytes_per_token", r.bytesPerToken());
            number(o, "read_bandwidth_gbs", r.bandwidth() / 1e9);
            number(o, "decode_bandwidth_fraction", r.decode().mean() * r.bytesPerToken() / r.bandwidth());
        }
        return mapper.writerWithDefaultPrettyPrinter().writeValueAsString(arr.size() == 1 ? arr.get(0) : arr);
    }

    /** A number, or null when not measured (JSON has no NaN). */
    private static void number(ObjectNode o, String name, double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            o.putNull(name);
        } else {
            o.put(name, v);
        }
    }
}

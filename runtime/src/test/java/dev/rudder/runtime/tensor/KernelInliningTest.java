package dev.rudder.runtime.tensor;

import dev.rudder.runtime.io.DType;
import dev.rudder.runtime.kernel.Kernels;
import dev.rudder.runtime.kernel.VectorKernels;
import dev.rudder.runtime.kernel.VectorSupport;
import dev.rudder.runtime.kernel.Vectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * No kernel compilation runs out of C2's inlining budget. Once a compilation has made 18000 nodes (the JVM's
 * {@code NodeCountInliningCutoff}), C2 inlines none of the calls that follow except the Vector API's own
 * (force-inlined) methods; a helper of ours that takes or returns vectors then stays a call and its vectors are
 * boxed: the Q5_K kernel ran 5x slower on some runs that way, depending on whether a large helper happened to be
 * compiled before the kernel. {@link KernelAllocationTest} sees that only on the runs where it happens; this test
 * reads the compiler's own log instead: a child JVM runs every weight type's kernels until C2 has compiled them, with
 * {@code -XX:+LogCompilation}, and no normal (non-OSR) compilation of a method of the tensor or kernel packages may
 * leave a call to a method that takes or returns vectors because of the cutoff, or as a virtual call (C2 did not
 * know the vector's class: what thin profiles did to the JDK's memory-segment loads under an early-JIT setting,
 * caught by this test when the child runs with that setting), or for its size where the profile called the site
 * cold. The child also runs the element-wise kernels (norm, residual add with probes, softmax, SwiGLU, attention),
 * first on rows shorter than one vector, as a server's first short contexts do. Calls that pass arrays may stay
 * calls: they cost a call, not an allocation.
 */
class KernelInliningTest {
    private static final String[] TYPES =
            {"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL", "IQ4_XS", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"};
    private static final Pattern TASK = Pattern.compile("<task compile_id='(\\d+)'( compile_kind='osr')? method='([^' ]+) ([^' ]+) ");
    private static final Pattern METHOD =
            Pattern.compile("<method id='(\\d+)' holder='(\\d+)' name='([^']+)' return='(\\d+)'(?: arguments='([^']*)')?");
    private static final Pattern VECTOR_CLASS = Pattern.compile("jdk\\.incubator\\.vector\\.[\\w$]*(Vector|Mask|Shuffle)");
    private static final Pattern KLASS = Pattern.compile("<klass id='(\\d+)' name='([^']+)'");
    /**
     * A call C2 left out of line for running out of nodes, for not knowing the receiver's class, or for its size
     * (a method over 35 bytes of bytecode is inlined only where the profile calls the call site hot: a loop that
     * had not run yet when the caller was compiled, such as softmax's over contexts shorter than one vector).
     */
    private static final Pattern CUT =
            Pattern.compile("<call method='(\\d+)'[^>]*/>\\s*<inline_fail reason='(NodeCountInliningCutoff|virtual call"
                    + "|too big|hot method too big|already compiled into a (?:big|medium) method|call site not reached)'/>");

    /**
     * Runs with the machine's vectors, and on an AVX-512 machine also limited to AVX2 (8 lanes: other code paths,
     * other node counts; CI machines may be either).
     */
    @Test
    void compiledKernelsInlineEveryVectorCall(@TempDir Path dir) throws Exception {
        assumeTrue(VectorSupport.useVector(), "the Vector API path is off");
        List<List<String>> variants = new ArrayList<>(List.of(List.of()));
        if (Vectors.L == 16 && System.getProperty("os.arch").matches("amd64|x86_64")) {
            variants.add(List.of("-XX:UseAVX=2"));
        }
        TreeSet<String> cut = new TreeSet<>();
        for (List<String> flags : variants) {
            Path log = dir.resolve("compilation" + cut.size() + flags.size() + ".log");
            String text = compilationLog(flags, log, dir.resolve("out.txt"));
            for (String type : TYPES) {   // the child ran long enough for C2 to compile each type's kernel
                String kernel = "dev.rudder.runtime.tensor." + type.replace("_K", "K") + "Matrix";
                assertTrue(c2Compiled(text, kernel), type + ": no C2 compilation of " + kernel + " " + flags);
            }
            for (String c : cutoffs(text)) {
                cut.add(c + (flags.isEmpty() ? "" : " with " + flags));
            }
        }
        assertTrue(cut.isEmpty(), "vector calls C2 left out of line (caller -> callee): " + cut);
    }

    /** The compilation log of a child JVM (with {@code flags}) running every type's kernels. */
    private static String compilationLog(List<String> flags, Path log, Path out) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector"));
        cmd.addAll(flags);
        cmd.addAll(List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:+LogCompilation", "-XX:LogFile=" + log,
                "-cp", System.getProperty("java.class.path"), Exercise.class.getName()));
        cmd.addAll(List.of(TYPES));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "the child JVM did not finish");
        assertEquals(0, p.exitValue(), () -> "child JVM failed: " + read(out));
        return Files.readString(log);
    }

    /** Whether C2 (its tasks carry no tier {@code level}) compiled a method of {@code holder} (or a nested class). */
    private static boolean c2Compiled(String log, String holder) {
        for (Matcher task = TASK.matcher(log); task.find(); ) {
            if (task.group(2) == null && task.group(3).startsWith(holder)) {
                int close = log.indexOf('>', task.end());
                if (!log.substring(task.end(), close).contains(" level='")) {
                    return true;
                }
            }
        }
        return false;
    }

    /** {@code caller -> callee} for each normal compilation of ours that reported the cutoff. */
    static TreeSet<String> cutoffs(String log) {
        TreeSet<String> found = new TreeSet<>();
        Matcher task = TASK.matcher(log);
        while (task.find()) {
            String holder = task.group(3);
            boolean ours = (holder.startsWith("dev.rudder.runtime.tensor.") || holder.startsWith("dev.rudder.runtime.kernel."))
                    && !holder.contains("Test");
            int close = log.indexOf('>', task.end());
            boolean c1 = log.substring(task.end(), close).contains(" level='");   // C1's own inlining is not the point
            if (task.group(2) != null || !ours || c1) {
                continue;
            }
            int end = log.indexOf("</task>", task.end());
            String body = log.substring(task.end(), end < 0 ? log.length() : end);
            Map<String, String> klasses = new HashMap<>();
            for (Matcher k = KLASS.matcher(body); k.find(); ) {
                klasses.put(k.group(1), k.group(2));
            }
            Map<String, String> vectorMethods = new HashMap<>();   // id -> name, for methods that take or return vectors
            for (Matcher m = METHOD.matcher(body); m.find(); ) {
                String types = m.group(4) + " " + (m.group(5) == null ? "" : m.group(5));
                boolean vectors = false;
                for (String id : types.trim().split(" ")) {
                    // vectors, masks and shuffles (boxed when passed out of line); not species or operators (constants)
                    vectors |= VECTOR_CLASS.matcher(klasses.getOrDefault(id, "")).matches();
                }
                if (vectors) {
                    vectorMethods.put(m.group(1), klasses.getOrDefault(m.group(2), "?") + "." + m.group(3));
                }
            }
            for (Matcher c = CUT.matcher(body); c.find(); ) {
                if (vectorMethods.containsKey(c.group(1))) {
                    found.add(holder + "." + task.group(4) + " -> " + vectorMethods.get(c.group(1)) + " (" + c.group(2) + ")");
                }
            }
        }
        return found;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** The child JVM: each type's matvec, batched matvec and matmul, until C2 has compiled them. */
    public static final class Exercise {
        private static final int ROWS = 64;
        private static final int COLS = 512;

        public static void main(String[] types) {
            Random rnd = new Random(3);
            float[] x = new float[8 * COLS];          // [8 inputs, COLS]
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            float[] out = new float[8 * ROWS];        // [8 inputs, ROWS]
            var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
            long self = Thread.currentThread().threadId();
            for (String type : types) {
                try (Arena arena = Arena.ofConfined()) {
                    WeightMatrix m = WeightMatrices.wrap(DType.valueOf(type),
                            KernelAllocationTest.randomWeights(type, arena, ROWS, COLS), ROWS, COLS);
                    // rounds until one allocates nothing (C2 has compiled the kernels; what it left out of line
                    // keeps allocating, then the 20 s bound ends it and the log shows why), at least 1 s
                    long start = System.nanoTime();
                    long allocated = Long.MAX_VALUE;
                    while ((allocated > 0 || System.nanoTime() - start < 1_000_000_000L)
                            && System.nanoTime() - start < 20_000_000_000L) {
                        long before = threads.getThreadAllocatedBytes(self);
                        for (int i = 0; i < 200; i++) {
                            m.matvec(x, 0, out, 0, 0, ROWS);
                            m.matvecBatch(x, 3, COLS, out, ROWS, 0, ROWS);
                            if (i % 25 == 0) {
                                m.matmul(x, 8, out, ROWS, 0, ROWS);
                            }
                        }
                        allocated = threads.getThreadAllocatedBytes(self) - before;
                    }
                }
            }
            elementWise(threads, self);
        }

        /**
         * The element-wise kernels, first only on rows shorter than one vector (so their vector loops have never
         * run when C2 first compiles them), then on long rows until a round allocates nothing.
         */
        private static void elementWise(com.sun.management.ThreadMXBean threads, long self) {
            Kernels k = new VectorKernels();
            int n = 1000;
            float[] a = new float[n];
            float[] b = new float[n];
            float[] c = new float[n];
            float[] kT = new float[64 * n];        // [64 dims, n positions]
            Random rnd = new Random(5);
            for (int i = 0; i < n; i++) {
                a[i] = (float) rnd.nextGaussian();
                b[i] = (float) rnd.nextGaussian();
                c[i] = (float) rnd.nextGaussian();
            }
            for (int i = 0; i < 200_000; i++) {
                run(k, a, b, c, kT, 1 + i % 5);
            }
            long start = System.nanoTime();
            long allocated = Long.MAX_VALUE;
            while ((allocated > 0 || System.nanoTime() - start < 1_000_000_000L) && System.nanoTime() - start < 20_000_000_000L) {
                long before = threads.getThreadAllocatedBytes(self);
                for (int i = 0; i < 200; i++) {
                    run(k, a, b, c, kT, 40 + i % 300);
                }
                allocated = threads.getThreadAllocatedBytes(self) - before;
            }
        }

        private static final float[][] GROUP = new float[3][1000];   // [3 heads sharing keys, positions]
        private static final short[] SIXTEEN = new short[1000];        // F16 and BF16 bits of a 16-bit KV cache
        private static final float[] WIDE = new float[1000];           // [positions] those bits widened
        static {
            Random r = new Random(9);
            for (int i = 0; i < SIXTEEN.length; i++) {
                SIXTEEN[i] = Float.floatToFloat16((float) r.nextGaussian());
            }
        }

        private static void run(Kernels k, float[] a, float[] b, float[] c, float[] kT, int m) {
            k.rmsnorm(c, 0, a, 0, b, m, 1e-5f);
            k.residualAdd(c, 0, a, 0, null, 0f, b, m);
            k.residualAdd(c, 0, a, 0, b, 0.5f, b, m);
            k.dot(a, 0, b, 0, m);
            k.attentionScores(a, 0, kT, 0, c.length, 64, 0, m, 0.125f, c);
            k.softmax(c, 0, m);
            k.attentionValues(c, 0, m, kT, 0, 64, b, 0, 64);
            k.attentionScores(a, 0, 3, kT, 0, c.length, 64, 0, m, 0.125f, GROUP);
            k.attentionValues(GROUP, 3, 0, m, kT, 0, 64, b, 0, 64);
            k.widenHalves(SIXTEEN, 0, WIDE, 0, m);
            k.widenBf16(SIXTEEN, 0, WIDE, 0, m);
            System.arraycopy(a, 0, c, 0, m);
            k.swiglu(c, 0, b, 0, m);
        }
    }
}

package dev.rudder.runtime.cuda;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The committed PTX against its sources and its callers, without a GPU: the Java signatures of
 * every kernel match the PTX entry points; where the CUDA toolkit is installed, the PTX is what
 * the sources compile to (build-ptx.sh) and ptxas assembles it for Ampere (sm_80) and Hopper
 * (sm_90). Without the toolkit those two skip with a message.
 */
class PtxTest {
    private static final Path SOURCES = Path.of("src/main/cuda");
    private static final Path COMMITTED = Path.of("src/main/resources/dev/rudder/runtime/cuda");
    private static final Pattern ENTRY = Pattern.compile("\\.visible \\.entry (\\w+)\\(([^)]*)\\)");
    private static final Pattern PARAM = Pattern.compile("\\.param \\.(u64|u32|f32|s32)\\s+\\w+");

    /** entry name -> signature letters (p pointer, i int, f float) of one PTX text. */
    static Map<String, String> entries(String ptx) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = ENTRY.matcher(ptx);
        while (m.find()) {
            StringBuilder sig = new StringBuilder();
            Matcher p = PARAM.matcher(m.group(2));
            while (p.find()) {
                sig.append(switch (p.group(1)) {
                    case "u64" -> 'p';
                    case "f32" -> 'f';
                    default -> 'i';
                });
            }
            out.put(m.group(1), sig.toString());
        }
        return out;
    }

    @Test
    void everyKernelTheBackendLaunchesExistsInThePtxWithTheSameParameters() {
        Map<String, String> all = new LinkedHashMap<>();
        for (String module : Kernel.MODULES) {
            String ptx = PtxSource.read(module);
            assertTrue(ptx.contains(".target sm_80"), module + ": PTX for compute_80");
            for (Map.Entry<String, String> e : entries(ptx).entrySet()) {
                all.put(module + "/" + e.getKey(), e.getValue());
            }
        }
        for (Kernel k : Kernel.values()) {
            String key = k.module() + "/" + k.entry();
            assertTrue(all.containsKey(key), key + " is not in the PTX");
            assertEquals(all.get(key), k.signature(), key + " parameters (p pointer, i int, f float)");
        }
        assertEquals(Kernel.values().length, all.size(), "every PTX entry has a Kernel constant: " + all.keySet());
    }

    @Test
    void committedPtxIsWhatTheSourcesCompileTo() throws Exception {
        assumeTrue(onPath("nvcc"), "PTX check skipped: nvcc (CUDA toolkit) not on PATH");
        Path tmp = Files.createTempDirectory("rudder-ptx");
        try {
            run(List.of("bash", SOURCES.resolve("build-ptx.sh").toString(), tmp.toString()));
            String[] fresh = list(tmp);
            assertEquals(Arrays.toString(list(COMMITTED)), Arrays.toString(fresh), "one PTX file per .cu source");
            for (String f : fresh) {
                String want = Files.readString(tmp.resolve(f));
                String have = Files.readString(COMMITTED.resolve(f));
                if (!want.equals(have)) {
                    String vWant = toolkitLine(want);
                    String vHave = toolkitLine(have);
                    assumeTrue(vWant.equals(vHave), "PTX check skipped: committed " + f + " was made by '" + vHave
                            + "', this nvcc is '" + vWant + "'");
                }
                assertEquals(want, have, f + " is stale: run runtime/src/main/cuda/build-ptx.sh and commit the PTX");
            }
        } finally {
            try (var s = Files.list(tmp)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(tmp);
        }
    }

    @Test
    void ptxAssemblesForAmpereAndHopper() throws Exception {
        assumeTrue(onPath("ptxas"), "ptxas check skipped: ptxas (CUDA toolkit) not on PATH");
        for (String f : list(COMMITTED)) {
            for (String arch : new String[] {"sm_80", "sm_90"}) {
                run(List.of("ptxas", "-arch=" + arch, COMMITTED.resolve(f).toString(), "-o", "/dev/null"));
            }
        }
    }

    private static String toolkitLine(String ptx) {
        return ptx.lines().filter(l -> l.startsWith("// Cuda compilation tools")).findFirst().orElse("?");
    }

    private static String[] list(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".ptx")).sorted().toArray(String[]::new);
        }
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        return path != null && Arrays.stream(path.split(":")).anyMatch(d -> Files.isExecutable(Path.of(d, tool)));
    }

    private static void run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(new ArrayList<>(cmd)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), String.join(" ", cmd) + " timed out");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + " failed:\n" + out);
    }
}

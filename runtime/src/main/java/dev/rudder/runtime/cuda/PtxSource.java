package dev.rudder.runtime.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The committed PTX of one kernel module, read from the classpath (no CUDA toolkit needed). */
public final class PtxSource {
    private PtxSource() {
    }

    /** The PTX text of module {@code module} (e.g. {@code matvec}), as the runtime loads it. */
    public static String read(String module) {
        String name = module + ".ptx";
        try (InputStream in = PtxSource.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("PTX resource dev/rudder/runtime/cuda/" + name + " is missing from the build");
            }
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

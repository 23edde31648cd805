package dev.rudder.cli;

import dev.rudder.steering.delta.AlignmentDelta;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code rudder delta --aligned A --base B -o D.safetensors}: alignment vectors, streamed tensor by tensor. */
@Command(name = "delta", mixinStandardHelpOptions = true,
        description = {"Compute alignment vectors: delta = W_aligned - W_base for every tensor, saved as float32 "
                + "safetensors.",
                "Streams tensor by tensor (memory stays small whatever the model size). The two models must have "
                        + "the same architecture and shapes.",
                "Apply with --delta D.safetensors:LAMBDA (W + LAMBDA * delta) when loading a model of that "
                        + "architecture."})
final class DeltaCommand implements Callable<Integer> {

    @Option(names = "--aligned", required = true, paramLabel = "DIR", description = "the aligned (fine-tuned) model")
    Path aligned;

    @Option(names = "--base", required = true, paramLabel = "DIR", description = "the model it was fine-tuned from")
    Path base;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE",
            description = "output safetensors file")
    Path output;

    @Option(names = {"-q", "--quiet"}, description = "no progress on stderr")
    boolean quiet;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        long start = System.nanoTime();
        long[] lastPrint = {0};
        AlignmentDelta.Result r = AlignmentDelta.compute(aligned, base, output, quiet ? null
                : (done, total, name, elements, elementsTotal) -> {
                    long now = System.nanoTime();
                    if (done < total && now - lastPrint[0] < 100_000_000L) {
                        return;
                    }
                    lastPrint[0] = now;
                    int width = 30;
                    int filled = (int) (width * (elementsTotal == 0 ? 1.0 : (double) elements / elementsTotal));
                    err.printf("\rdelta [%s%s] %3d%% %d/%d tensors  %-48.48s", "#".repeat(filled),
                            " ".repeat(width - filled), elementsTotal == 0 ? 100 : elements * 100 / elementsTotal,
                            done, total, name);
                    if (done == total) {
                        err.println();
                    }
                    err.flush();
                });
        double secs = (System.nanoTime() - start) / 1e9;
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "wrote %s: %d tensors, %d parameters, max |delta| %.6g, ||delta|| %.6g (%.1f s)%n",
                output, r.tensorCount(), r.elementCount(), r.maxAbs(), r.l2Norm(), secs);
        out.flush();
        return 0;
    }
}

package dev.rudder.cli;

import dev.rudder.runtime.BadInputException;
import dev.rudder.steering.apply.AlignmentVectors;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Parses repeated {@code --delta FILE:LAMBDA} options into an {@link AlignmentVectors} transform. */
final class DeltaOption {
    private DeltaOption() {
    }

    static AlignmentVectors transform(List<String> specs) {
        List<Path> files = new ArrayList<>();
        double[] lambdas = new double[specs.size()];
        for (int i = 0; i < specs.size(); i++) {
            String s = specs.get(i);
            int colon = s.lastIndexOf(':');
            if (colon <= 0) {
                throw new BadInputException("--delta " + s + ": expected FILE:LAMBDA, e.g. delta.safetensors:0.5");
            }
            files.add(Path.of(s.substring(0, colon)));
            try {
                lambdas[i] = Double.parseDouble(s.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new BadInputException("--delta " + s + ": lambda '" + s.substring(colon + 1) + "' is not a number");
            }
        }
        return AlignmentVectors.open(files, lambdas);
    }
}

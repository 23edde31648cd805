package dev.rudder.cli;

import dev.rudder.steering.delta.DeltaSet;

import java.util.List;

/** Parses repeated {@code --delta FILE:LAMBDA} options into a {@link DeltaSet} transform. */
final class DeltaOption {
    private DeltaOption() {
    }

    static DeltaSet transform(List<String> specs) {
        return DeltaSet.open(specs.stream().map(DeltaSet.Spec::parse).toList());
    }
}

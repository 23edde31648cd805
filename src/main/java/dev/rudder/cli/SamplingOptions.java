package dev.rudder.cli;

import dev.rudder.runtime.sample.SamplerOptions;
import picocli.CommandLine.Option;

/** Sampling flags shared by generate and chat. */
final class SamplingOptions {
    @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default); e.g. 0.7 for varied text")
    float temperature;

    @Option(names = "--top-k", defaultValue = "0", description = "keep the K most likely tokens (0 = off)")
    int topK;

    @Option(names = "--top-p", defaultValue = "1", description = "nucleus sampling mass (1 = off)")
    float topP;

    @Option(names = "--min-p", defaultValue = "0", description = "drop tokens below P x the top probability (0 = off)")
    float minP;

    @Option(names = "--repetition-penalty", defaultValue = "1", description = "penalise tokens already seen (1 = off)")
    float repetitionPenalty;

    @Option(names = "--seed", defaultValue = "42", description = "random seed; same seed and options give the same text")
    long seed;

    SamplerOptions toOptions() {
        return new SamplerOptions(temperature, topK, topP, minP, repetitionPenalty, seed);
    }
}

package dev.rudder.tokenizer;

import java.util.List;

/**
 * The result of {@link Tokenizer#encodeDetailed}: ids, their token strings, and per token 1 where the
 * post-processor inserted it (e.g. a BOS), else 0.
 */
public record Encoding(int[] ids, List<String> tokens, int[] specialTokensMask) {
}

package dev.rudder.steering.vectors;

import dev.rudder.runtime.BadInputException;

/**
 * An inclusive range of 0-based decoder-block indices, written {@code "a-b"} (or {@code "a"} for one block).
 *
 * <p>Block {@code l} is the {@code l}-th decoder layer of the model ({@code model.layers.l} in Hugging Face
 * weight names); a steering vector for block {@code l} is added to that block's output.
 */
public record LayerRange(int first, int last) {

    public LayerRange {
        if (first < 0 || last < first) {
            throw new BadInputException("invalid layer range " + first + "-" + last
                    + " (expected 0 <= first <= last)");
        }
    }

    /** A range holding one block. */
    public static LayerRange of(int layer) {
        return new LayerRange(layer, layer);
    }

    /**
     * Parses {@code "a-b"} or {@code "a"} (whitespace around the numbers is ignored).
     *
     * @throws BadInputException when the text is not a valid range
     */
    public static LayerRange parse(String text) {
        if (text == null || text.isBlank()) {
            throw new BadInputException("empty layer range (expected a-b, e.g. 1-3)");
        }
        String s = text.trim();
        int dash = s.indexOf('-', 1);
        try {
            if (dash < 0) {
                return of(Integer.parseInt(s));
            }
            return new LayerRange(Integer.parseInt(s.substring(0, dash).trim()),
                    Integer.parseInt(s.substring(dash + 1).trim()));
        } catch (NumberFormatException e) {
            throw new BadInputException("invalid layer range \"" + text + "\" (expected a-b, e.g. 1-3)");
        }
    }

    /** True when {@code layer} is in the range. */
    public boolean contains(int layer) {
        return layer >= first && layer <= last;
    }

    /** Number of blocks in the range. */
    public int size() {
        return last - first + 1;
    }

    /** {@code "a-b"}, the form {@link #parse} reads. */
    @Override
    public String toString() {
        return first + "-" + last;
    }
}

package dev.rudder.server;

import java.util.List;

/**
 * OpenAI's {@code stop} strings on a text stream: text is released as soon as it cannot be the
 * start of a stop string, and generation ends at the first stop string, which is not released.
 * Whatever could still begin a stop string is held back until the next piece decides it.
 */
final class StopStrings {
    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private boolean hit;

    StopStrings(List<String> stops) {
        this.stops = List.copyOf(stops);
    }

    /** Adds generated text and returns the part that is safe to send (possibly empty). */
    String accept(String piece) {
        if (hit) {
            return "";
        }
        held.append(piece);
        if (stops.isEmpty()) {
            return flush();
        }
        int first = -1;
        for (String s : stops) {
            int i = held.indexOf(s);
            if (i >= 0 && (first < 0 || i < first)) {
                first = i;
            }
        }
        if (first >= 0) {
            hit = true;
            String out = held.substring(0, first);
            held.setLength(0);
            return out;
        }
        int keep = heldBackLength();
        String out = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return out;
    }

    /** True once a stop string has appeared: generation should end. */
    boolean hit() {
        return hit;
    }

    /** Releases what was held back (generation ended for another reason). */
    String flush() {
        String out = held.toString();
        held.setLength(0);
        return out;
    }

    /** The longest suffix of the held text that is a proper prefix of some stop string. */
    private int heldBackLength() {
        String h = held.toString();
        int best = 0;
        for (String s : stops) {
            for (int k = Math.min(s.length() - 1, h.length()); k > best; k--) {
                if (h.regionMatches(h.length() - k, s, 0, k)) {
                    best = k;
                    break;
                }
            }
        }
        return best;
    }
}

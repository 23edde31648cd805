package dev.rudder.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Added tokens of tokenizer.json: matched in the text before the model runs (leftmost-longest, like the
 * aho-corasick automaton of the Hugging Face implementation), with their lstrip/rstrip/single_word flags.
 * Tokens with {@code normalized: false} are matched in the raw text, the others in the normalized text.
 */
final class AddedVocabulary {
    record AddedToken(int id, String content, boolean special, boolean lstrip, boolean rstrip, boolean singleWord,
                      boolean normalized) {
    }

    final List<AddedToken> tokens;
    final Map<Integer, AddedToken> byId = new HashMap<>();
    final Map<String, AddedToken> byContent = new HashMap<>();
    final Set<Integer> specialIds = new HashSet<>();
    /** What a normalized token decodes to: the library keeps it as its normalized content (e.g. lowercased). */
    private final Map<Integer, String> decodeForm = new HashMap<>();
    private final Matcher raw;
    private final Matcher normalizedMatcher;

    AddedVocabulary(List<AddedToken> tokens) {
        this(tokens, null);
    }

    /** Tokens with {@code normalized: true} are matched in normalized text by their normalized content, as in HF. */
    AddedVocabulary(List<AddedToken> tokens, Normalizer normalizer) {
        this.tokens = tokens;
        List<AddedToken> rawList = new ArrayList<>();
        List<AddedToken> normList = new ArrayList<>();
        for (AddedToken t : tokens) {
            byId.put(t.id(), t);
            byContent.put(t.content(), t);
            if (t.special()) {
                specialIds.add(t.id());
            }
            if (t.content().isEmpty()) {
                continue;
            }
            (t.normalized() ? normList : rawList).add(t);
        }
        raw = rawList.isEmpty() ? null : new Matcher(rawList);
        if (normalizer != null) {
            List<AddedToken> n = new ArrayList<>();
            for (AddedToken t : normList) {
                String c = normalizer.normalize(t.content());
                if (!c.isEmpty()) {
                    n.add(new AddedToken(t.id(), c, t.special(), t.lstrip(), t.rstrip(), t.singleWord(), true));
                    if (!c.equals(t.content())) {
                        decodeForm.put(t.id(), c);
                    }
                }
            }
            normList = n;
        }
        normalizedMatcher = normList.isEmpty() ? null : new Matcher(normList);
    }

    /** The token string {@code decode} uses for {@code id}: a normalized token's normalized content, else {@code token}. */
    String decodeForm(int id, String token) {
        return decodeForm.isEmpty() ? token : decodeForm.getOrDefault(id, token);
    }

    boolean hasNormalized() {
        return normalizedMatcher != null;
    }

    /** A piece of the input: either an added token (id >= 0) or text to normalize and tokenize. */
    record Segment(String text, int id, boolean atStart) {
    }

    List<Segment> splitRaw(String s) {
        return split(s, raw, true);
    }

    List<Segment> splitNormalized(String s, boolean atStart) {
        return split(s, normalizedMatcher, atStart);
    }

    private List<Segment> split(String s, Matcher m, boolean atStart) {
        List<Segment> out = new ArrayList<>(4);
        if (m == null || s.isEmpty()) {
            out.add(new Segment(s, -1, atStart));
            return out;
        }
        int n = s.length();
        int startOffset = 0;
        int i = 0;
        while (i < n) {
            AddedToken t = m.longestAt(s, i);
            if (t == null) {
                i++;
                continue;
            }
            int start = i;
            int stop = i + t.content().length();
            i = stop;
            if (t.singleWord()) {
                boolean startSpace = start == 0 || !isWordChar(s.codePointBefore(start));
                boolean stopSpace = stop == n || !isWordChar(s.codePointAt(stop));
                if (!startSpace || !stopSpace) {
                    continue;
                }
            }
            if (t.lstrip()) {
                int ns = start;
                while (ns > 0 && Text.isWhitespace(s.charAt(ns - 1))) {
                    ns--;
                }
                start = Math.max(ns, startOffset);
            }
            if (t.rstrip()) {
                while (stop < n && Text.isWhitespace(s.charAt(stop))) {
                    stop++;
                }
            }
            if (startOffset < start) {
                out.add(new Segment(s.substring(startOffset, start), -1, atStart && startOffset == 0));
            }
            out.add(new Segment(s.substring(start, stop), t.id(), false));
            startOffset = stop;
        }
        if (startOffset != n) {
            out.add(new Segment(s.substring(startOffset), -1, atStart && startOffset == 0));
        }
        return out;
    }

    /**
     * {@code \w} of Rust's regex crate, which the library's {@code single_word} check uses: Alphabetic, marks,
     * decimal digits, connector punctuation and the joiners U+200C/U+200D (so ⓪ and ² are not word chars, Ⓐ is).
     */
    private static boolean isWordChar(int cp) {
        if (cp == 0x200C || cp == 0x200D || Character.isAlphabetic(cp)) {
            return true;
        }
        int t = Character.getType(cp);
        return t == Character.NON_SPACING_MARK || t == Character.COMBINING_SPACING_MARK
                || t == Character.ENCLOSING_MARK || t == Character.CONNECTOR_PUNCTUATION
                || t == Character.DECIMAL_DIGIT_NUMBER;
    }

    /** Candidates by first char, longest first. */
    private static final class Matcher {
        private final Map<Character, AddedToken[]> byFirst = new HashMap<>();
        private final boolean[] firstAscii = new boolean[128];

        Matcher(List<AddedToken> list) {
            Map<Character, List<AddedToken>> tmp = new HashMap<>();
            for (AddedToken t : list) {
                tmp.computeIfAbsent(t.content().charAt(0), k -> new ArrayList<>()).add(t);
            }
            for (Map.Entry<Character, List<AddedToken>> e : tmp.entrySet()) {
                List<AddedToken> l = e.getValue();
                l.sort((a, b) -> Integer.compare(b.content().length(), a.content().length()));
                byFirst.put(e.getKey(), l.toArray(new AddedToken[0]));
                if (e.getKey() < 128) {
                    firstAscii[e.getKey()] = true;
                }
            }
        }

        AddedToken longestAt(String s, int i) {
            char c = s.charAt(i);
            if (c < 128 && !firstAscii[c]) {
                return null;
            }
            AddedToken[] cands = byFirst.get(c);
            if (cands == null) {
                return null;
            }
            for (AddedToken t : cands) {
                if (s.startsWith(t.content(), i)) {
                    return t;
                }
            }
            return null;
        }
    }
}

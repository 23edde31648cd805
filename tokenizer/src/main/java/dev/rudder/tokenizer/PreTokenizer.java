package dev.rudder.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * tokenizer.json {@code pre_tokenizer}: splits normalized text into words for the model. Each piece knows whether it
 * starts at offset 0 of the original input (Metaspace's {@code prepend_scheme: first} needs it).
 */
interface PreTokenizer {

    record Piece(String text, boolean atStart) {
    }

    /** Splits every piece of {@code in} and returns the new list (empty pieces dropped). */
    List<Piece> apply(List<Piece> in);

    enum Behavior { REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS }

    /** Splits {@code s} around the matches found by {@code pattern} according to the HF SplitDelimiterBehavior. */
    static void split(Piece piece, SplitPattern pattern, boolean invert, Behavior behavior, List<Piece> out) {
        String s = piece.text();
        if (s.isEmpty()) {
            return;
        }
        IntList m = new IntList();
        pattern.find(s, m);
        // (start, end, isMatch) covering the whole string
        IntList segs = new IntList(m.size * 2 + 6);
        int prev = 0;
        for (int k = 0; k < m.size; k += 2) {
            int st = m.get(k);
            int en = m.get(k + 1);
            if (prev != st) {
                segs.add(prev);
                segs.add(st);
                segs.add(invert ? 1 : 0);
            }
            segs.add(st);
            segs.add(en);
            segs.add(invert ? 0 : 1);
            prev = en;
        }
        if (prev != s.length()) {
            segs.add(prev);
            segs.add(s.length());
            segs.add(invert ? 1 : 0);
        }
        int count = segs.size / 3;
        IntList res = new IntList(count * 2 + 2); // start,end of kept splits
        switch (behavior) {
            case ISOLATED -> {
                for (int k = 0; k < count; k++) {
                    res.add(segs.get(3 * k));
                    res.add(segs.get(3 * k + 1));
                }
            }
            case REMOVED -> {
                for (int k = 0; k < count; k++) {
                    if (segs.get(3 * k + 2) == 0) {
                        res.add(segs.get(3 * k));
                        res.add(segs.get(3 * k + 1));
                    }
                }
            }
            case CONTIGUOUS -> {
                boolean prevMatch = false;
                for (int k = 0; k < count; k++) {
                    boolean isMatch = segs.get(3 * k + 2) == 1;
                    if (isMatch == prevMatch && res.size > 0) {
                        res.a[res.size - 1] = segs.get(3 * k + 1);
                    } else {
                        res.add(segs.get(3 * k));
                        res.add(segs.get(3 * k + 1));
                    }
                    prevMatch = isMatch;
                }
            }
            case MERGED_WITH_PREVIOUS -> {
                boolean prevMatch = false;
                for (int k = 0; k < count; k++) {
                    boolean isMatch = segs.get(3 * k + 2) == 1;
                    if (isMatch && !prevMatch && res.size > 0) {
                        res.a[res.size - 1] = segs.get(3 * k + 1);
                    } else {
                        res.add(segs.get(3 * k));
                        res.add(segs.get(3 * k + 1));
                    }
                    prevMatch = isMatch;
                }
            }
            case MERGED_WITH_NEXT -> {
                boolean prevMatch = false;
                IntList rev = new IntList(count * 2 + 2);
                for (int k = count - 1; k >= 0; k--) {
                    boolean isMatch = segs.get(3 * k + 2) == 1;
                    if (isMatch && !prevMatch && rev.size > 0) {
                        rev.a[rev.size - 2] = segs.get(3 * k);
                    } else {
                        rev.add(segs.get(3 * k));
                        rev.add(segs.get(3 * k + 1));
                    }
                    prevMatch = isMatch;
                }
                for (int k = rev.size - 2; k >= 0; k -= 2) {
                    res.add(rev.get(k));
                    res.add(rev.get(k + 1));
                }
            }
        }
        for (int k = 0; k < res.size; k += 2) {
            int st = res.get(k);
            int en = res.get(k + 1);
            if (en > st) {
                out.add(new Piece(s.substring(st, en), piece.atStart() && st == 0));
            }
        }
    }

    record Sequence(List<PreTokenizer> steps) implements PreTokenizer {
        @Override
        public List<Piece> apply(List<Piece> in) {
            for (PreTokenizer p : steps) {
                in = p.apply(in);
            }
            return in;
        }
    }

    record Split(SplitPattern pattern, boolean invert, Behavior behavior) implements PreTokenizer {
        @Override
        public List<Piece> apply(List<Piece> in) {
            List<Piece> out = new ArrayList<>(in.size() * 4);
            for (Piece p : in) {
                split(p, pattern, invert, behavior, out);
            }
            return out;
        }
    }

    /** Digits: every numeric char (Rust's {@code char::is_numeric}: {@link Text#isNumeric}) alone, or runs of them. */
    record Digits(boolean individual) implements PreTokenizer {
        @Override
        public List<Piece> apply(List<Piece> in) {
            SplitPattern pattern = new SplitPattern() {
                @Override
                void find(String s, IntList out) {
                    int n = s.length();
                    int i = 0;
                    while (i < n) {
                        int cp = s.codePointAt(i);
                        int len = Character.charCount(cp);
                        if (Text.isNumeric(cp)) {
                            int st = i;
                            i += len;
                            if (!individual) {
                                while (i < n && Text.isNumeric(s.codePointAt(i))) {
                                    i += Character.charCount(s.codePointAt(i));
                                }
                            }
                            out.add(st);
                            out.add(i);
                        } else {
                            i += len;
                        }
                    }
                }
            };
            List<Piece> out = new ArrayList<>(in.size() * 2);
            for (Piece p : in) {
                split(p, pattern, false, Behavior.ISOLATED, out);
            }
            return out;
        }
    }

    /** ByteLevel: optional GPT-2 regex split, then bytes mapped to printable chars. */
    record ByteLevelPre(boolean addPrefixSpace, boolean useRegex) implements PreTokenizer {
        static final SplitPattern GPT2 = SplitPattern.regex(SplitPattern.GPT2);

        @Override
        public List<Piece> apply(List<Piece> in) {
            List<Piece> out = new ArrayList<>(in.size() * 2);
            for (Piece p : in) {
                if (addPrefixSpace && !p.text().startsWith(" ") && !p.text().isEmpty()) {
                    p = new Piece(" " + p.text(), p.atStart());
                }
                if (useRegex) {
                    split(p, GPT2, false, Behavior.ISOLATED, out);
                } else if (!p.text().isEmpty()) {
                    out.add(p);
                }
            }
            for (int i = 0; i < out.size(); i++) {
                Piece p = out.get(i);
                out.set(i, new Piece(ByteLevel.encode(p.text()), p.atStart()));
            }
            return out;
        }
    }

    /** Metaspace: spaces become the replacement char, which is prepended per the prepend scheme. */
    record Metaspace(char replacement, String prependScheme, boolean split) implements PreTokenizer {
        @Override
        public List<Piece> apply(List<Piece> in) {
            List<Piece> out = new ArrayList<>(in.size() * 2);
            String rep = String.valueOf(replacement);
            for (Piece p : in) {
                String s = p.text().replace(' ', replacement);
                if (!s.isEmpty() && s.charAt(0) != replacement) {
                    if (prependScheme.equals("always") || (prependScheme.equals("first") && p.atStart())) {
                        s = rep + s;
                    }
                }
                Piece q = new Piece(s, p.atStart());
                if (split) {
                    PreTokenizer.split(q, SplitPattern.literal(rep), false, Behavior.MERGED_WITH_NEXT, out);
                } else if (!s.isEmpty()) {
                    out.add(q);
                }
            }
            return out;
        }
    }

    /** Whitespace ({@code \w+|[^\w\s]+}) and WhitespaceSplit (split on whitespace). */
    record Regex(SplitPattern pattern, Behavior behavior, boolean invert) implements PreTokenizer {
        @Override
        public List<Piece> apply(List<Piece> in) {
            List<Piece> out = new ArrayList<>(in.size() * 2);
            for (Piece p : in) {
                split(p, pattern, invert, behavior, out);
            }
            return out;
        }
    }
}

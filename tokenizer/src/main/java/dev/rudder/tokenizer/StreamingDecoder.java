package dev.rudder.tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Decodes a generation token by token. {@link #accept} returns the text completed since the previous call; while
 * the ids so far end inside a UTF-8 character (byte-level or byte-fallback pieces) it returns "" and waits, so a
 * broken character is never emitted. Follows the Hugging Face {@code DecodeStream}: a few ids of context are kept so
 * that decoders which look at token boundaries (leading-space stripping) behave as in a full decode.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private final boolean skipSpecialTokens;
    private final List<Integer> ids = new ArrayList<>();
    private String prefix = "";
    private int prefixIndex = 0;

    StreamingDecoder(Tokenizer tokenizer, boolean skipSpecialTokens) {
        this.tokenizer = tokenizer;
        this.skipSpecialTokens = skipSpecialTokens;
    }

    /** Adds one id; returns the newly completed text (possibly empty, never null). */
    public String accept(int id) {
        ids.add(id);
        String s = tokenizer.decode(toArray(ids), skipSpecialTokens);
        if (s.length() > prefix.length() && !s.endsWith("\uFFFD")) {
            String text;
            if (s.startsWith(prefix)) {
                text = s.substring(prefix.length());
            } else {
                // the decoder changed earlier text (should not happen with the supported decoders)
                int common = 0;
                while (common < prefix.length() && common < s.length() && prefix.charAt(common) == s.charAt(common)) {
                    common++;
                }
                text = s.substring(common);
            }
            int newPrefixIndex = ids.size() - prefixIndex;
            List<Integer> rest = new ArrayList<>(ids.subList(prefixIndex, ids.size()));
            ids.clear();
            ids.addAll(rest);
            prefix = tokenizer.decode(toArray(ids), skipSpecialTokens);
            prefixIndex = newPrefixIndex;
            return text;
        }
        return "";
    }

    /** Text still held back (an incomplete character at the end of the stream), decoded lossily; resets. */
    public String flush() {
        String s = tokenizer.decode(toArray(ids), skipSpecialTokens);
        String text = s.length() > prefix.length() && s.startsWith(prefix) ? s.substring(prefix.length()) : "";
        ids.clear();
        prefix = "";
        prefixIndex = 0;
        return text;
    }

    private static int[] toArray(List<Integer> l) {
        int[] a = new int[l.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = l.get(i);
        }
        return a;
    }
}

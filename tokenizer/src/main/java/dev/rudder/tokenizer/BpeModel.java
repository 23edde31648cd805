package dev.rudder.tokenizer;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model of tokenizer.json with the exact merge order of the Hugging Face implementation: a min-heap of
 * (rank, position) candidate merges over a linked list of symbols; byte fallback, unk and fuse_unk,
 * ignore_merges, continuing_subword_prefix and end_of_word_suffix. Pre-tokenized words are cached.
 */
final class BpeModel {
    final Map<String, Integer> vocab;
    final String[] idToToken;
    /** (left id, right id) to (rank << 32 | new id). */
    private final LongLongMap merges;
    final Integer unkId;
    final boolean fuseUnk;
    final boolean byteFallback;
    final boolean ignoreMerges;
    final String prefix;
    final String suffix;
    private final int[] byteFallbackIds = new int[256];
    /** vocab ids of single BMP chars (no prefix/suffix), -1 when absent, for fast symbol lookup. */
    private final int[] charIds;
    private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();
    /** Words cached per tokenizer; system property {@code rudder.tokenizer.cache} (0 disables, for benchmarks). */
    private final int cacheMax = Integer.getInteger("rudder.tokenizer.cache", 100_000);
    private static final int CACHE_MAX_WORD = 256;

    BpeModel(Map<String, Integer> vocab, String[] idToToken, LongLongMap merges, Integer unkId, boolean fuseUnk,
             boolean byteFallback, boolean ignoreMerges, String prefix, String suffix) {
        this.vocab = vocab;
        this.idToToken = idToToken;
        this.merges = merges;
        this.unkId = unkId;
        this.fuseUnk = fuseUnk;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
        this.prefix = prefix == null ? "" : prefix;
        this.suffix = suffix == null ? "" : suffix;
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.get(String.format("<0x%02X>", b));
            byteFallbackIds[b] = id == null ? -1 : id;
        }
        charIds = new int[0x10000];
        Arrays.fill(charIds, -1);
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            String k = e.getKey();
            if (k.length() == 1) {
                charIds[k.charAt(0)] = e.getValue();
            }
        }
    }

    /** Appends the ids of {@code word} to {@code out}. */
    void tokenize(String word, IntList out) {
        if (word.isEmpty()) {
            return;
        }
        int[] ids = cache.get(word);
        if (ids == null) {
            ids = tokenizeWord(word);
            if (cacheMax > 0 && word.length() <= CACHE_MAX_WORD) {
                if (cache.size() >= cacheMax) {
                    cache.clear();
                }
                cache.put(word, ids);
            }
        }
        out.addAll(ids);
    }

    private int[] tokenizeWord(String word) {
        if (ignoreMerges) {
            Integer id = vocab.get(word);
            if (id != null) {
                return new int[]{id};
            }
        }
        int n = word.length();
        // symbols
        int[] sym = new int[n * 4 + 4];
        int count = 0;
        int pendingUnk = -1; // index of the last symbol if it is an unk, for fuse_unk
        boolean noAffix = prefix.isEmpty() && suffix.isEmpty();
        for (int i = 0; i < n; ) {
            int cp = word.codePointAt(i);
            int len = Character.charCount(cp);
            int id = -1;
            if (noAffix && len == 1) {
                id = charIds[word.charAt(i)];
            } else {
                String s = word.substring(i, i + len);
                if (i > 0) {
                    s = prefix + s;
                }
                if (i + len == n) {
                    s = s + suffix;
                }
                Integer v = vocab.get(s);
                id = v == null ? -1 : v;
            }
            if (id >= 0) {
                sym[count++] = id;
                pendingUnk = -1;
            } else {
                boolean done = false;
                if (byteFallback) {
                    byte[] bytes = Text.utf8(word.substring(i, i + len));
                    boolean all = true;
                    for (byte b : bytes) {
                        if (byteFallbackIds[b & 0xFF] < 0) {
                            all = false;
                            break;
                        }
                    }
                    if (all) {
                        for (byte b : bytes) {
                            sym[count++] = byteFallbackIds[b & 0xFF];
                        }
                        pendingUnk = -1;
                        done = true;
                    }
                }
                if (!done && unkId != null) {
                    if (fuseUnk && pendingUnk >= 0) {
                        // merged into the previous unk symbol
                    } else {
                        sym[count++] = unkId;
                        pendingUnk = count - 1;
                    }
                }
            }
            i += len;
        }
        if (count <= 1) {
            return Arrays.copyOf(sym, count);
        }
        // unk symbols must not merge with their neighbours: HF keeps them as symbols with their id; merges are
        // looked up by id so an unk could merge only if a merge names the unk token, which is what HF does too.
        int[] prev = new int[count];
        int[] next = new int[count];
        boolean[] dead = new boolean[count];
        for (int k = 0; k < count; k++) {
            prev[k] = k - 1;
            next[k] = k + 1 < count ? k + 1 : -1;
        }
        LongHeap heap = new LongHeap(count * 2);
        for (int k = 0; k + 1 < count; k++) {
            long m = merges.get(key(sym[k], sym[k + 1]));
            if (m >= 0) {
                heap.push((m & 0xFFFFFFFF00000000L) | k);
            }
        }
        while (heap.size > 0) {
            long top = heap.pop();
            int pos = (int) top;
            int rank = (int) (top >>> 32);
            if (dead[pos] || next[pos] < 0) {
                continue;
            }
            int right = next[pos];
            long m = merges.get(key(sym[pos], sym[right]));
            if (m < 0 || (int) (m >>> 32) != rank) {
                continue;
            }
            sym[pos] = (int) m;
            dead[right] = true;
            int rn = next[right];
            next[pos] = rn;
            if (rn >= 0) {
                prev[rn] = pos;
            }
            int p = prev[pos];
            if (p >= 0) {
                long pm = merges.get(key(sym[p], sym[pos]));
                if (pm >= 0) {
                    heap.push((pm & 0xFFFFFFFF00000000L) | p);
                }
            }
            if (rn >= 0) {
                long nm = merges.get(key(sym[pos], sym[rn]));
                if (nm >= 0) {
                    heap.push((nm & 0xFFFFFFFF00000000L) | pos);
                }
            }
        }
        int[] res = new int[count];
        int r = 0;
        for (int k = 0; k >= 0; k = next[k]) {
            res[r++] = sym[k];
        }
        return Arrays.copyOf(res, r);
    }

    static long key(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    /** Open-addressing map from long keys to non-negative long values; get returns -1 when absent. */
    static final class LongLongMap {
        private long[] keys;
        private long[] vals;
        private boolean[] used;
        private int size;
        private int mask;

        LongLongMap(int expected) {
            int cap = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
            keys = new long[cap];
            vals = new long[cap];
            used = new boolean[cap];
            mask = cap - 1;
        }

        private static int hash(long k) {
            long h = k * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 29));
        }

        void put(long k, long v) {
            if ((size + 1) * 2 > keys.length) {
                grow();
            }
            int i = hash(k) & mask;
            while (used[i]) {
                if (keys[i] == k) {
                    vals[i] = v;
                    return;
                }
                i = (i + 1) & mask;
            }
            used[i] = true;
            keys[i] = k;
            vals[i] = v;
            size++;
        }

        long get(long k) {
            int i = hash(k) & mask;
            while (used[i]) {
                if (keys[i] == k) {
                    return vals[i];
                }
                i = (i + 1) & mask;
            }
            return -1;
        }

        private void grow() {
            long[] ok = keys;
            long[] ov = vals;
            boolean[] ou = used;
            keys = new long[ok.length * 2];
            vals = new long[ok.length * 2];
            used = new boolean[ok.length * 2];
            mask = keys.length - 1;
            size = 0;
            for (int i = 0; i < ok.length; i++) {
                if (ou[i]) {
                    put(ok[i], ov[i]);
                }
            }
        }
    }

    /** Binary min-heap of longs. */
    static final class LongHeap {
        long[] a;
        int size;

        LongHeap(int cap) {
            a = new long[Math.max(4, cap)];
        }

        void push(long v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, a.length * 2);
            }
            int i = size++;
            while (i > 0) {
                int p = (i - 1) >>> 1;
                if (a[p] <= v) {
                    break;
                }
                a[i] = a[p];
                i = p;
            }
            a[i] = v;
        }

        long pop() {
            long top = a[0];
            long last = a[--size];
            int i = 0;
            int half = size >>> 1;
            while (i < half) {
                int c = 2 * i + 1;
                if (c + 1 < size && a[c + 1] < a[c]) {
                    c++;
                }
                if (a[c] >= last) {
                    break;
                }
                a[i] = a[c];
                i = c;
            }
            if (size > 0) {
                a[i] = last;
            }
            return top;
        }
    }
}

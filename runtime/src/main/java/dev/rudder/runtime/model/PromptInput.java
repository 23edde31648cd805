package dev.rudder.runtime.model;

import dev.rudder.runtime.BadInputException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A sequence of inputs, each either a token id or an embedding row of {@code hidden_size}
 * floats fed straight into the residual stream (learned soft prompts, compressed context).
 * Immutable; build with {@link #tokens(int...)}, {@link #embeddings(float[][])} and {@link #then}.
 */
public final class PromptInput {
    private final int[] ids;          // -1 where the element is an embedding row
    private final float[][] rows;     // null where the element is a token

    private PromptInput(int[] ids, float[][] rows) {
        this.ids = ids;
        this.rows = rows;
    }

    public static PromptInput tokens(int... ids) {
        for (int id : ids) {
            if (id < 0) {
                throw new BadInputException("token id " + id + " is negative");
            }
        }
        return new PromptInput(ids.clone(), new float[ids.length][]);
    }

    public static PromptInput embeddings(float[][] rows) {
        int[] ids = new int[rows.length];
        Arrays.fill(ids, -1);
        float[][] copy = new float[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            copy[i] = rows[i].clone();
        }
        return new PromptInput(ids, copy);
    }

    /** This sequence followed by {@code next}. */
    public PromptInput then(PromptInput next) {
        int n = ids.length + next.ids.length;
        int[] i2 = Arrays.copyOf(ids, n);
        System.arraycopy(next.ids, 0, i2, ids.length, next.ids.length);
        float[][] r2 = Arrays.copyOf(rows, n);
        System.arraycopy(next.rows, 0, r2, rows.length, next.rows.length);
        return new PromptInput(i2, r2);
    }

    /** Elements {@code from} (inclusive) to {@code to} (exclusive), e.g. one part of a chunked prefill. */
    public PromptInput slice(int from, int to) {
        return new PromptInput(Arrays.copyOfRange(ids, from, to), Arrays.copyOfRange(rows, from, to));
    }

    public int length() {
        return ids.length;
    }

    public boolean isToken(int i) {
        return rows[i] == null;
    }

    public int token(int i) {
        return ids[i];
    }

    public float[] embedding(int i) {
        return rows[i];
    }

    /** The token ids, in order, of the token elements (embedding rows are skipped). */
    public List<Integer> tokenIds() {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < ids.length; i++) {
            if (rows[i] == null) {
                out.add(ids[i]);
            }
        }
        return out;
    }
}

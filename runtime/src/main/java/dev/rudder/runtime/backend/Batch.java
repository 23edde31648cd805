package dev.rudder.runtime.backend;

import java.util.Arrays;

/**
 * The host-side row table of one forward call: for each row, its sequence, the cache slot it
 * writes, its RoPE position, the first cache entry it may see, whether it is steered, and whether
 * it is the last row of its sequence in this batch (probes and the last hidden state are read
 * there). A backend may upload it per call (a few ints per row). Reused between calls, so decode
 * allocates nothing.
 */
public final class Batch {

    /** Prompt rows of one sequence (matrix-matrix products allowed) or decode rows (each row as if alone). */
    public enum Kind { PROMPT, DECODE }

    private Kind kind = Kind.PROMPT;
    private int size;
    private Sequence[] sequence;   // [capacity]
    private int[] slot;            // [capacity] cache index the row's k, v go to
    private int[] position;        // [capacity] RoPE position
    private int[] attendFrom;      // [capacity] first cache index the row attends to
    private SteerMode[] steer;     // [capacity]
    private boolean[] last;        // [capacity] last row of its sequence in this batch
    private long version;

    public Batch(int capacity) {
        sequence = new Sequence[capacity];
        slot = new int[capacity];
        position = new int[capacity];
        attendFrom = new int[capacity];
        steer = new SteerMode[capacity];
        last = new boolean[capacity];
    }

    /** Empties the table for a new call of {@code kind}, growing it to {@code capacity} rows if needed. */
    public Batch reset(Kind kind, int capacity) {
        if (capacity > sequence.length) {
            sequence = Arrays.copyOf(sequence, capacity);
            slot = Arrays.copyOf(slot, capacity);
            position = Arrays.copyOf(position, capacity);
            attendFrom = Arrays.copyOf(attendFrom, capacity);
            steer = Arrays.copyOf(steer, capacity);
            last = Arrays.copyOf(last, capacity);
        }
        this.kind = kind;
        size = 0;
        version++;
        return this;
    }

    /** Appends a row; returns its index. */
    public int add(Sequence seq, int slot, int position, int attendFrom, SteerMode steer, boolean last) {
        int i = size++;
        version++;
        this.sequence[i] = seq;
        this.slot[i] = slot;
        this.position[i] = position;
        this.attendFrom[i] = attendFrom;
        this.steer[i] = steer;
        this.last[i] = last;
        return i;
    }

    /** Sets the steering of every row (a gated prompt switches between passes). */
    public void steerAll(SteerMode mode) {
        Arrays.fill(steer, 0, size, mode);
        version++;
    }

    /** Changes whenever the table does (a backend that uploads it can skip unchanged ones). */
    public long version() {
        return version;
    }

    public Kind kind() {
        return kind;
    }

    public int size() {
        return size;
    }

    public Sequence sequence(int row) {
        return sequence[row];
    }

    public int slot(int row) {
        return slot[row];
    }

    public int position(int row) {
        return position[row];
    }

    public int attendFrom(int row) {
        return attendFrom[row];
    }

    public SteerMode steer(int row) {
        return steer[row];
    }

    public boolean last(int row) {
        return last[row];
    }
}

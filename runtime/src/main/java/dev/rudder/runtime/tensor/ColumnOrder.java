package dev.rudder.runtime.tensor;

import dev.rudder.runtime.kernel.Vectors;

/**
 * The order in which a vector kernel walks the columns of a row. A dot product does not care
 * about the order as long as weights and inputs agree, so inputs are rearranged once per call.
 */
enum ColumnOrder {
    /** Columns 0, 1, 2, ... */
    NATURAL,
    /**
     * bf16 pairs: bf16 weights are loaded as int lanes, lane j of the block at column c holding
     * columns c+2j (low half) and c+2j+1 (high half); widening the low halves gives the even
     * columns and the high halves the odd ones, with no shuffles. So block {@code [c, c+2L)} is
     * its L even columns then its L odd ones; the tail after the last full block stays natural.
     */
    PAIR;

    /** Columns covered by full pair blocks of {@code 2 * Vectors.L}. */
    static int pairMain(int cols) {
        return cols - cols % (2 * Vectors.L);
    }

    /** Copies {@code src[sOff .. sOff+cols)} into {@code dst[dOff ..)} in this order. */
    void arrange(float[] src, int sOff, int cols, float[] dst, int dOff) {
        if (this == NATURAL) {
            System.arraycopy(src, sOff, dst, dOff, cols);
            return;
        }
        int l = Vectors.L;
        int main = pairMain(cols);
        for (int c = 0; c < main; c += 2 * l) {
            int s = sOff + c;
            int d = dOff + c;
            for (int j = 0; j < l; j++) {
                dst[d + j] = src[s + 2 * j];
                dst[d + l + j] = src[s + 2 * j + 1];
            }
        }
        if (main < cols) {
            System.arraycopy(src, sOff + main, dst, dOff + main, cols - main);
        }
    }
}

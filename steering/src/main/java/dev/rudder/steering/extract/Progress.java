package dev.rudder.steering.extract;

import java.io.PrintStream;

/** A one-line progress bar on stderr, redrawn in place; silent when {@code out} is null. */
public final class Progress {
    private final PrintStream out;
    private final String label;
    private final int total;
    private final long start = System.nanoTime();
    private long lastDraw;

    public Progress(PrintStream out, String label, int total) {
        this.out = out;
        this.label = label;
        this.total = total;
    }

    public void update(int done) {
        if (out == null) {
            return;
        }
        long now = System.nanoTime();
        if (done < total && now - lastDraw < 200_000_000L) {
            return;   // redraw at most five times a second
        }
        lastDraw = now;
        int width = 30;
        int filled = total == 0 ? width : (int) ((long) done * width / total);
        double secs = (System.nanoTime() - start) / 1e9;
        out.printf("\r%s [%s%s] %d/%d  %.1fs", label, "#".repeat(filled), " ".repeat(width - filled), done, total, secs);
        if (done >= total) {
            out.println();
        }
        out.flush();
    }
}

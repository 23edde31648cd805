package dev.rudder.runtime.cuda;

import java.util.concurrent.atomic.LongAdder;

/**
 * Replays repeated steps of one queue as CUDA graphs. A step is what the queue issues between two
 * waits (a decode step ends by downloading its logits). When a step repeats the one before it
 * operation for operation (kernels, geometries and arguments, device copies and fills: decode
 * steps do, since their positions live in the device's row table), it is captured into a graph;
 * later steps are held until their wait and then replayed with one launch when they match it,
 * else issued one by one. A host upload between a step's operations makes it no graph (held
 * operations go first). Any graph failure turns replay off for this queue; nothing is lost.
 */
final class StepReplay {
    /** Where operations go: the stream, and graphs captured from it. */
    interface Device extends LaunchRecord.Issuer {
        /** A graph of {@code step}'s operations (captured, not run). */
        Graph capture(LaunchRecord step);
    }

    /** A captured graph. */
    interface Graph {
        void launch();

        void close();
    }

    static final LongAdder CAPTURED = new LongAdder();
    static final LongAdder REPLAYED = new LongAdder();
    static final LongAdder DIFFERED = new LongAdder();

    private final Device device;
    private final KernelArgs reissue;
    private LaunchRecord step = new LaunchRecord();       // operations since the last wait
    private LaunchRecord previous = new LaunchRecord();   // the step before (the two swap at each wait)
    private final LaunchRecord graphed = new LaunchRecord();    // what `graph` replays
    private Graph graph;
    private boolean holding;     // this step's operations are held for the graph, not yet issued
    private boolean mixed;       // host work came between this step's operations: not a graph
    private boolean off;

    /** {@code reissue}: argument slots for issuing recorded launches; {@code on}: false records nothing. */
    StepReplay(Device device, KernelArgs reissue, boolean on) {
        this.device = device;
        this.reissue = reissue;
        this.off = !on;
    }

    /** A kernel launch of the current step. */
    void launch(Kernel kernel, LaunchGeometry g, KernelArgs args) {
        if (!off) {
            step.add(kernel, g, args);
            if (holding) {
                return;
            }
        }
        device.launch(kernel, g, args);
    }

    void copy(long dst, long src, long bytes) {
        if (!off) {
            step.addCopy(dst, src, bytes);
            if (holding) {
                return;
            }
        }
        device.copy(dst, src, bytes);
    }

    void fill32(long dst, long count, int value) {
        if (!off) {
            step.addFill(dst, count, value);
            if (holding) {
                return;
            }
        }
        device.fill32(dst, count, value);
    }

    /** Before work a graph cannot hold (host uploads, profiled launches): held operations go first; the step is no graph. */
    void hostWork() {
        if (step.size() > 0) {
            if (holding) {
                issueStep();
            }
            mixed = true;
        }
    }

    private void issueStep() {
        holding = false;
        step.issue(reissue, device);
    }

    /** At a wait: replays or issues a held step, captures a step that repeated its predecessor, starts the next step. */
    void endStep() {
        if (off || step.size() == 0) {
            return;
        }
        boolean holdNext = graph != null;
        try {
            if (holding) {
                if (step.sameAs(graphed)) {
                    graph.launch();
                    holding = false;   // after the launch: if it throws, the step is issued one by one below
                    REPLAYED.increment();
                } else {
                    issueStep();
                    dropGraph();
                    holdNext = false;
                    DIFFERED.increment();
                }
            } else if (!mixed && step.sameAs(previous)) {
                dropGraph();
                graph = device.capture(step);
                graphed.copyFrom(step);
                holdNext = true;
                CAPTURED.increment();
            }
        } catch (CudaException e) {
            off = true;   // this driver or GPU will not do it: one by one from now on
            if (holding) {
                issueStep();
            }
            dropGraph();
            holdNext = false;
        }
        LaunchRecord done = step;
        step = previous;
        previous = done;
        step.clear();
        mixed = false;
        holding = holdNext && graph != null;
    }

    private void dropGraph() {
        if (graph != null) {
            graph.close();
            graph = null;
        }
    }

    /** Frees the graph (before the stream and context go). */
    void close() {
        dropGraph();
    }
}

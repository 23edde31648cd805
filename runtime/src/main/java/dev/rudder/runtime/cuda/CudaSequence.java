package dev.rudder.runtime.cuda;

import dev.rudder.runtime.BadInputException;
import dev.rudder.runtime.backend.GateState;
import dev.rudder.runtime.backend.Sequence;
import dev.rudder.runtime.io.ModelConfig;
import dev.rudder.runtime.steer.SteeringPlan;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.util.Arrays;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A sequence on the GPU: its KV cache, its steering plan's vectors, probes and gate direction,
 * and a small state block the kernels write (gate flag and score, probe readings, last hidden
 * state). The gate flag lives only on the device: seam kernels read it; the host reads it only
 * when asked ({@link #gateState()} after a decision), which waits for the queued work.
 */
final class CudaSequence implements Sequence {
    private static final Cleaner CLEANER = Cleaner.create();

    // state block layout, in 4-byte words
    static final int FLAG = 0;        // int: 1 = steer (open or undecided), 0 = closed
    static final int SCORE = 1;       // float: last gate score
    static final int PROBES = 2;      // float[layers]
    // then lastHidden: float[hidden] at word PROBES + layers

    final int contextLength;
    final SteeringPlan plan;
    final long keys;                  // [layers, contextLength, kvDim] float32
    final long values;                // [layers, contextLength, kvDim] float32
    final long state;                 // the state block above
    final long[] attnVectors;         // [layers] device address of the after-attention vector, or 0
    final long[] outVectors;          // [layers] block-output vector, or 0
    final long[] probes;              // [layers] probe direction, or 0
    final long gateDirection;         // [hidden], or 0
    private final int layers;
    private final int hidden;
    private final Cleaner.Cleanable cleanable;
    private Gpu.Queue lastQueue;      // the queue that last ran work on this sequence
    private GateState hostGate;       // NONE, UNDECIDED, or null once decided on the device

    CudaSequence(Gpu gpu, Gpu.Queue setup, ModelConfig cfg, int contextLength, SteeringPlan plan) {
        if (contextLength < 1) {
            throw new BadInputException("context length must be at least 1, got " + contextLength);
        }
        this.contextLength = contextLength;
        this.plan = plan;
        this.layers = cfg.numLayers();
        this.hidden = cfg.hiddenSize();
        long kvBytes = 4L * layers * contextLength * cfg.numKvHeads() * cfg.headDim();
        attnVectors = new long[layers];
        outVectors = new long[layers];
        probes = new long[layers];
        long k = 0, v = 0, st = 0, vec = 0;
        try {
            k = gpu.allocate(kvBytes, "key cache (" + contextLength + " positions)");
            v = gpu.allocate(kvBytes, "value cache (" + contextLength + " positions)");
            st = gpu.allocate(4L * (PROBES + layers + hidden), "sequence state");
            int count = 0;
            for (int l = 0; l < layers; l++) {
                count += (plan.attnVector(l) != null ? 1 : 0) + (plan.outVector(l) != null ? 1 : 0) + (plan.probe(l) != null ? 1 : 0);
            }
            count += plan.gate() != null ? 1 : 0;
            long stride = WeightLayout.align(4L * hidden);
            vec = count == 0 ? 0 : gpu.allocate(stride * count, "steering vectors");
            try (Arena a = Arena.ofConfined()) {
                MemorySegment host = a.allocate(Math.max(stride * count, 4L * (PROBES + layers)), 16);
                long at = 0;
                for (int l = 0; l < layers; l++) {
                    attnVectors[l] = put(host, at, plan.attnVector(l), vec);
                    at += attnVectors[l] != 0 ? stride : 0;
                    outVectors[l] = put(host, at, plan.outVector(l), vec);
                    at += outVectors[l] != 0 ? stride : 0;
                    probes[l] = put(host, at, plan.probe(l), vec);
                    at += probes[l] != 0 ? stride : 0;
                }
                gateDirection = plan.gate() != null ? put(host, at, plan.gate().direction(), vec) : 0;
                if (count > 0) {
                    setup.upload(host.asSlice(0, stride * count), vec);
                }
                MemorySegment s = host.asSlice(0, 4L * (PROBES + layers));
                s.set(JAVA_INT, 4L * FLAG, 1);
                s.set(JAVA_FLOAT, 4L * SCORE, Float.NaN);
                for (int l = 0; l < layers; l++) {
                    s.set(JAVA_FLOAT, 4L * (PROBES + l), Float.NaN);
                }
                setup.upload(s, st);
                setup.synchronize();
            }
        } catch (RuntimeException e) {
            for (long p : new long[] {k, v, st, vec}) {
                if (p != 0) {
                    gpu.free(p);
                }
            }
            throw e;
        }
        keys = k;
        values = v;
        state = st;
        long[] owned = {k, v, st, vec};
        // a sequence nobody closes (a Session has no close) is freed when it becomes unreachable
        cleanable = CLEANER.register(this, () -> {
            for (long p : owned) {
                if (p != 0) {
                    gpu.free(p);
                }
            }
        });
        hostGate = plan.gate() == null ? GateState.NONE : GateState.UNDECIDED;
        lastQueue = setup;
    }

    /** Writes {@code v} into {@code host} at {@code at}; returns its device address or 0 for null. */
    private static long put(MemorySegment host, long at, float[] v, long deviceBase) {
        if (v == null) {
            return 0;
        }
        MemorySegment.copy(v, 0, host, JAVA_FLOAT, at, v.length);
        return deviceBase + at;
    }

    long gateFlag() {
        return state + 4L * FLAG;
    }

    long gateScoreAddress() {
        return state + 4L * SCORE;
    }

    long probeScore(int layer) {
        return state + 4L * (PROBES + layer);
    }

    long lastHiddenAddress() {
        return state + 4L * (PROBES + layers);
    }

    /** Work for this sequence was queued on {@code q}: host reads go through it (in order). */
    void touchedBy(Gpu.Queue q) {
        lastQueue = q;
    }

    /** The gate was decided on the device (value unknown to the host until read). */
    void gateDecided() {
        hostGate = null;
    }

    @Override
    public int contextLength() {
        return contextLength;
    }

    @Override
    public SteeringPlan plan() {
        return plan;
    }

    @Override
    public GateState gateState() {
        if (hostGate != null) {
            return hostGate;
        }
        return readInts(FLAG, 1)[0] != 0 ? GateState.OPEN : GateState.CLOSED;
    }

    @Override
    public float gateScore() {
        return hostGate == GateState.NONE ? Float.NaN : readFloats(SCORE, 1)[0];
    }

    @Override
    public float[] probeScores() {
        return readFloats(PROBES, layers);
    }

    @Override
    public float[] lastHidden() {
        return readFloats(PROBES + layers, hidden);
    }

    private float[] readFloats(int word, int n) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(JAVA_FLOAT, n);
            lastQueue.download(state + 4L * word, m);
            return m.toArray(JAVA_FLOAT);
        }
    }

    private int[] readInts(int word, int n) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment m = a.allocate(JAVA_INT, n);
            lastQueue.download(state + 4L * word, m);
            return m.toArray(JAVA_INT);
        }
    }

    @Override
    public void close() {
        cleanable.clean();
    }

    @Override
    public String toString() {
        return "CudaSequence[" + contextLength + " positions, probes " + Arrays.stream(probes).filter(p -> p != 0).count() + "]";
    }
}

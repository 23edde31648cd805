package dev.rudder.runtime.cuda;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** When repeated steps are captured and replayed as graphs, and that nothing is lost or reordered when they are not. */
class StepReplayTest {
    private final Arena arena = Arena.ofConfined();
    private final KernelArgs args = new KernelArgs(arena);
    private final List<String> log = new ArrayList<>();
    private boolean failCapture;
    private boolean failGraphLaunch;

    /** Logs what reaches the stream: operations issued one by one, graph captures, launches and closes. */
    private final StepReplay.Device device = new StepReplay.Device() {
        @Override
        public void launch(Kernel kernel, LaunchGeometry g, KernelArgs a) {
            log.add(kernel + "(" + a.rawSlot(0) + ")");
        }

        @Override
        public void copy(long dst, long src, long bytes) {
            log.add("copy(" + dst + ")");
        }

        @Override
        public void fill32(long dst, long count, int value) {
            log.add("fill(" + dst + ")");
        }

        @Override
        public StepReplay.Graph capture(LaunchRecord step) {
            if (failCapture) {
                throw new CudaException("cuStreamBeginCapture_v2 failed (test)");
            }
            log.add("capture " + step.size());
            return new StepReplay.Graph() {
                @Override
                public void launch() {
                    if (failGraphLaunch) {
                        throw new CudaException("cuGraphLaunch failed (test)");
                    }
                    log.add("graph");
                }

                @Override
                public void close() {
                    log.add("close");
                }
            };
        }
    };

    private final StepReplay replay = new StepReplay(device, new KernelArgs(arena), true);

    @AfterEach
    void free() {
        arena.close();
    }

    private static final LaunchGeometry G = LaunchGeometry.of(1, 32);

    /** A decode-like step: two launches (the second's argument {@code v}) and a device copy, then the wait. */
    private List<String> step(int v) {
        log.clear();
        replay.launch(Kernel.RMSNORM, G, args.clear().i32(1));
        replay.launch(Kernel.SWIGLU, G, args.clear().i32(v));
        replay.copy(100, 200, 64);
        replay.endStep();
        return List.copyOf(log);
    }

    @Test
    void aStepThatRepeatsItsPredecessorIsCapturedAndTheNextOnesReplayAsOneGraph() {
        List<String> once = List.of("RMSNORM(1)", "SWIGLU(7)", "copy(100)");
        assertEquals(once, step(7));
        assertEquals(List.of("RMSNORM(1)", "SWIGLU(7)", "copy(100)", "capture 3"), step(7));
        assertEquals(List.of("graph"), step(7));
        assertEquals(List.of("graph"), step(7));
    }

    @Test
    void aHeldStepThatDiffersIsIssuedInOrderAtItsWaitAndTheGraphDropped() {
        step(7);
        step(7);
        assertEquals(List.of("RMSNORM(1)", "SWIGLU(8)", "copy(100)", "close"), step(8));
        assertEquals(List.of("RMSNORM(1)", "SWIGLU(8)", "copy(100)", "capture 3"), step(8), "the new step repeats: captured");
        assertEquals(List.of("graph"), step(8));
    }

    @Test
    void hostWorkBetweenHeldOperationsSendsThemFirstAndMakesTheStepNoGraph() {
        step(7);
        step(7);
        log.clear();
        replay.launch(Kernel.RMSNORM, G, args.clear().i32(1));
        assertEquals(List.of(), log, "held");
        replay.hostWork();                                    // e.g. an upload from the host
        assertEquals(List.of("RMSNORM(1)"), log, "held operations issued before the host work");
        replay.launch(Kernel.SWIGLU, G, args.clear().i32(7));
        replay.copy(100, 200, 64);
        replay.endStep();
        assertEquals(List.of("RMSNORM(1)", "SWIGLU(7)", "copy(100)"), log);
        assertEquals(List.of("graph"), step(7), "the graph is kept for the steps that match it");
    }

    @Test
    void aStepWithHostWorkIsNeverCaptured() {
        for (int i = 0; i < 3; i++) {
            log.clear();
            replay.launch(Kernel.RMSNORM, G, args.clear().i32(1));
            replay.hostWork();
            replay.launch(Kernel.SWIGLU, G, args.clear().i32(7));
            replay.endStep();
            assertEquals(List.of("RMSNORM(1)", "SWIGLU(7)"), log);
        }
    }

    @Test
    void aCaptureFailureTurnsReplayOffWithoutLosingOperations() {
        failCapture = true;
        step(7);
        List<String> once = List.of("RMSNORM(1)", "SWIGLU(7)", "copy(100)");
        assertEquals(once, step(7), "capture failed after the step ran");
        failCapture = false;
        assertEquals(once, step(7), "off: one by one from now on");
        assertEquals(once, step(7));
    }

    @Test
    void aGraphLaunchFailureIssuesTheHeldStep() {
        step(7);
        step(7);
        failGraphLaunch = true;
        assertEquals(List.of("RMSNORM(1)", "SWIGLU(7)", "copy(100)", "close"), step(7));
        failGraphLaunch = false;
        assertEquals(List.of("RMSNORM(1)", "SWIGLU(7)", "copy(100)"), step(7), "off after a failure");
    }

    @Test
    void switchedOffItRecordsNothing() {
        StepReplay off = new StepReplay(device, new KernelArgs(arena), false);
        for (int i = 0; i < 3; i++) {
            log.clear();
            off.launch(Kernel.RMSNORM, G, args.clear().i32(1));
            off.fill32(5, 1, 0);
            off.endStep();
            assertEquals(List.of("RMSNORM(1)", "fill(5)"), log);
        }
    }
}

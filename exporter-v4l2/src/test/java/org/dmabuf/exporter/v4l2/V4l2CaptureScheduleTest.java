package org.dmabuf.exporter.v4l2;

import java.time.Duration;
import java.util.List;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.Frame;
import org.dmabuf.api.Plane;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Sys;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;

/**
 * A V4L2 capture's {@code next}, its frames' close (the requeue), its capture loop's body and its close, under
 * Lincheck's model checker: every interleaving of these, switched at every lock, shared field and monitor, not the
 * ones threads happen to take. The capture is a {@link V4l2Capture#stepped} one over a {@link FakeCaptureDevice} of
 * three driver MMAP buffers (memfds adopted by a registry), so the hand-off queue holds one frame and a full queue
 * drops; the loop's body runs as the {@link #pump()} operation ({@link V4l2Capture#step()}), from any of the
 * checker's threads, and close waits for a step under way as it joins the real capture thread.
 *
 * <p>The operations return nothing: what they may see depends on the interleaving by design (a frame dropped
 * before a consumer takes it), so the checker compares no results; what must hold is checked as state. After every
 * schedule: the device refused nothing (no QBUF of a queued buffer, no QBUF or DQBUF after
 * STREAMOFF); while the capture is open every buffer is in exactly one place: queued in the driver, waiting in the
 * hand-off queue, or held by one consumer's frame, and its reference count says the same (one reference per frame);
 * once it is closed nothing is queued or waiting, STREAMOFF ran once and the close callback once, no {@code next}
 * that began after the close returned a frame, and a {@code next} then fails with the typed "closed" error. Then
 * the capture is closed (if the schedule did not), the kept frames are closed, twice (harmless after the capture's
 * close), and every buffer is released.
 *
 * <p>CI runs 4 scenarios of 3 threads x 3 operations, up to 100 schedules each (about 20 s with the agent's start);
 * the long run is one command, the same as the core's schedule tests:
 * <pre>
 * ./mvnw -B -ntp -o test-compile surefire:test@schedules -pl exporter-v4l2 -Dconcurrency.iterations=10 -Dconcurrency.invocations=200
 * </pre>
 * Not explored here: the pools ({@link V4l2Capture#into} and the exporter's pool of its MMAP buffers) with their
 * refill thread, the start racing a close (the capture starts before the schedule), and the real ioctls.
 */
public class V4l2CaptureScheduleTest {
    private static final BufferFormat FORMAT = new BufferFormat(BufferFormat.fourcc("YUYV"), 32, 32,
            List.of(new Plane(0, 2048, 64)));
    private static final int BUFFERS = 3;
    private static final Integer ITERATIONS = Integer.getInteger("concurrency.iterations");
    private static final Integer INVOCATIONS = Integer.getInteger("concurrency.invocations");
    private static final String COUNTER = "concurrency.schedules.V4l2CaptureScheduleTest";

    private final StandaloneRegistry registry = new StandaloneRegistry("schedule");
    private final FakeCaptureDevice device = new FakeCaptureDevice(BUFFERS);
    private final DmaBuf b0 = memfd(0);
    private final DmaBuf b1 = memfd(1);
    private final DmaBuf b2 = memfd(2);
    /** Each buffer's reference count with no frame out: the capture's handle and the registry's own. */
    private final int base0;
    private final int base1;
    private final int base2;
    private final V4l2Capture capture;
    private final Object slots = new Object();
    /** Frames held by consumers, guarded by {@link #slots}. */
    private Frame kept0;
    private Frame kept1;
    private Frame kept2;
    private volatile boolean captureClosed;
    private volatile int onCloseRuns;
    private volatile String wrong;

    public V4l2CaptureScheduleTest() {
        capture = V4l2Capture.stepped(device, FORMAT, List.of(List.of(b0), List.of(b1), List.of(b2)),
                () -> onCloseRuns++);
        if (capture.next(Duration.ZERO) != null) { // starts: every buffer queued, streaming, nothing dequeued yet
            throw new AssertionError("a frame before the first step");
        }
        base0 = b0.refCount();
        base1 = b1.refCount();
        base2 = b2.refCount();
    }

    private DmaBuf memfd(int i) {
        try (Fd fd = Sys.memfd("v4l2-schedule-" + i, LibC.MFD_ALLOW_SEALING)) {
            Sys.ftruncate(fd.get(), 4096);
            FdBuffer.sealAgainstResize(fd.get(), "test");
            return registry.get(fd.get());
        }
    }

    /** A consumer's {@code next}: closes the frame at once. */
    @Operation
    public void takeAndClose() {
        Frame f = take();
        if (f == null) {
            return;
        }
        f.close();
    }

    /** A consumer's {@code next} that keeps the frame (closed later by {@link #closeKept()} or after the schedule). */
    @Operation
    public void takeAndKeep() {
        Frame f = take();
        if (f == null) {
            return;
        }
        synchronized (slots) {
            if (kept0 == null) {
                kept0 = f;
                return;
            } else if (kept1 == null) {
                kept1 = f;
                return;
            } else if (kept2 == null) {
                kept2 = f;
                return;
            }
        }
        f.close();
    }

    private Frame take() {
        boolean after = captureClosed;
        Frame f;
        try {
            f = capture.next(Duration.ZERO);
        } catch (DmaBufException e) {
            if (!e.getMessage().contains("is closed")) {
                wrong("next failed otherwise than closed: " + e);
            }
            return null;
        }
        if (f != null && after) {
            wrong("next handed out " + f + " after the capture's close");
        }
        return f;
    }

    /** A consumer closing a frame it kept: the buffer goes back to the driver while the capture streams. */
    @Operation
    public void closeKept() {
        Frame f;
        synchronized (slots) {
            f = kept0 != null ? kept0 : kept1 != null ? kept1 : kept2;
            if (f == kept0) {
                kept0 = null;
            } else if (f == kept1) {
                kept1 = null;
            } else {
                kept2 = null;
            }
        }
        if (f == null) {
            return;
        }
        f.close();
    }

    /** One turn of the capture thread's loop: DQBUF and the frame offered, the oldest dropped when full. */
    @Operation
    public void pump() {
        capture.step();
    }

    @Operation(runOnce = true)
    public void close() {
        capture.close();
        captureClosed = true;
    }

    private void wrong(String what) {
        if (wrong == null) {
            wrong = what;
        }
    }

    private int index(Frame f) {
        DmaBuf b = f.buffer(0);
        return b.id().equals(b0.id()) ? 0 : b.id().equals(b1.id()) ? 1 : b.id().equals(b2.id()) ? 2 : -1;
    }

    private int keptCount(int i) {
        int n = 0;
        for (Frame f : new Frame[] {kept0, kept1, kept2}) {
            if (f != null && index(f) == i) {
                n++;
            }
        }
        return n;
    }

    @Validate
    public void state() {
        System.setProperty(COUNTER, Long.toString(Long.parseLong(System.getProperty(COUNTER, "0")) + 1));
        check(wrong == null, wrong);
        check(device.error() == null, "the driver refused: " + device.error());
        List<Integer> ready = capture.readyIndexes();
        if (!captureClosed) {
            int[] base = {base0, base1, base2};
            DmaBuf[] bufs = {b0, b1, b2};
            for (int i = 0; i < BUFFERS; i++) {
                int inReady = java.util.Collections.frequency(ready, i);
                int places = (device.isQueued(i) ? 1 : 0) + inReady + keptCount(i);
                check(places == 1, "buffer " + i + " is in " + places + " places: queued " + device.isQueued(i)
                        + ", ready " + ready + ", kept " + keptCount(i));
                int frames = inReady + keptCount(i);
                check(bufs[i].refCount() == base[i] + frames, "buffer " + i + " has " + bufs[i].refCount()
                        + " references for " + frames + " frames (base " + base[i] + ")");
            }
            check(device.streamOffs() == 0, "STREAMOFF while open");
        } else {
            check(device.queuedCount() == 0, device.queuedCount() + " buffers queued after close");
            check(ready.isEmpty(), "frames waiting after close: " + ready);
            check(device.streamOffs() == 1, "STREAMOFF " + device.streamOffs() + " times");
            check(onCloseRuns == 1, "close callback ran " + onCloseRuns + " times");
            for (int i = 0; i < BUFFERS; i++) {
                check(keptCount(i) <= 1, "buffer " + i + " held by " + keptCount(i) + " frames");
            }
        }
        // the end of the capture's life, after every schedule
        capture.close();
        try {
            capture.next(Duration.ZERO);
            check(false, "next after close returned");
        } catch (DmaBufException e) {
            check(e.getMessage().contains("is closed"), "next after close: " + e);
        }
        for (Frame f : new Frame[] {kept0, kept1, kept2}) {
            if (f != null) {
                f.close();
                f.close();
            }
        }
        check(device.error() == null, "the driver refused: " + device.error());
        check(device.streamOffs() == 1 && onCloseRuns == 1, "STREAMOFF " + device.streamOffs() + " times, close "
                + "callback " + onCloseRuns + " times");
        check(device.queuedCount() == 0, "queued after every frame closed");
        for (DmaBuf b : new DmaBuf[] {b0, b1, b2}) {
            check(b.refCount() == 0, b + " not released: " + b.refCount() + " references");
        }
        // not registry.close(): it joins the registry's leak reaper, a thread the checker does not manage; with
        // every buffer released the reaper ends once the registry is unreachable
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    /** Every operation, in one thread, outside the checker: initialises what they use. */
    private static void sequentially() {
        V4l2CaptureScheduleTest t = new V4l2CaptureScheduleTest();
        t.pump();
        t.takeAndKeep();
        t.pump();
        t.pump();
        t.takeAndClose();
        t.closeKept();
        t.takeAndKeep();
        t.close();
        t.takeAndClose();
        t.state();
    }

    @Test
    void nextFrameCloseLoopAndCloseKeepEveryBufferInOnePlace() {
        System.getLogger("org.dmabuf.core").log(System.Logger.Level.INFO, "model checking starts at {0}",
                java.time.ZonedDateTime.now());
        java.util.logging.Logger.getLogger("org.dmabuf.core").setLevel(java.util.logging.Level.WARNING);
        for (String c : List.of("ExceptionResult", "ValueResult", "VoidResult")) {
            try {
                Class.forName("org.jetbrains.kotlinx.lincheck.util." + c, true, getClass().getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new AssertionError(e);
            }
        }
        sequentially();
        int iterations = ITERATIONS == null ? 4 : ITERATIONS;
        int invocations = INVOCATIONS == null ? 100 : INVOCATIONS;
        int threads = 3;
        int actors = 3;
        System.clearProperty(COUNTER);
        long start = System.nanoTime();
        new ModelCheckingOptions().iterations(iterations).invocationsPerIteration(invocations).threads(threads)
                .actorsPerThread(actors).actorsBefore(0).actorsAfter(0).check(V4l2CaptureScheduleTest.class);
        System.out.printf("V4l2CaptureScheduleTest: %d scenarios of %d threads x %d operations (up to %d schedules"
                + " each): %s schedules checked in %d ms%n", iterations, threads, actors, invocations,
                System.getProperty(COUNTER, "0"), (System.nanoTime() - start) / 1_000_000);
    }
}

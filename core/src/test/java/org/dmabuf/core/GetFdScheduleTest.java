package org.dmabuf.core;

import org.dmabuf.api.BufferId;
import org.dmabuf.api.BufferReleasedException;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.Sys;
import org.dmabuf.spi.DmaBufExporter;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;

/**
 * {@code get(fd)} racing the last put of the same buffer, under Lincheck's model checker ({@link ScheduleSupport}):
 * the schedule-by-schedule version of {@link RegistryLifecycleTest}'s hand-made
 * {@code getOfAnFdWhoseBufferIsBetweenItsLastPutAndForgetIsAdoptedAfresh}.
 *
 * <p>A buffer is allocated from TestExporter (a memfd), and a duplicate of its fd is kept, so that the file outlives
 * the buffer object. Operations: the producer's put of its only handle (the last put: it releases the object and
 * the registry forgets its identity), and {@code get(fd)} with the kept fd followed by a put. In every schedule, a
 * get returns a live object, the known one or a fresh adoption, with the file's identity, never one that is
 * released or being released; after the schedule the exporter released its storage at most once (exactly once if
 * the producer put), no object is left live once every handle is put, and no warning (underflow, failed op) was
 * given. {@code fstat} inside {@code get(fd)} is a native call: one atomic step for the checker, and it never
 * blocks; the registry's lookup, its {@code tryRef} and its {@code putIfAbsent}/{@code replace} around it are
 * where the checker switches threads.
 */
public class GetFdScheduleTest implements AutoCloseable {
    private final BufferRegistry registry = new BufferRegistry();
    private final TestExporter system = new TestExporter("system", 100).with(DmaBufExporter.MAX_SIZE, 64L << 20);
    /** The registry's warnings that say something went wrong (underflow, an op failing); the checker needs fields. */
    private String badWarning;
    private final OwnerScope scope;
    private final DmaBuf made;
    private final Fd kept;
    private final BufferId id;
    private boolean closed;

    public GetFdScheduleTest() {
        registry.onWarning(this::warned);
        registry.bindExporter(system, system.props);
        scope = registry.open("test");
        made = scope.allocate(BufferRequest.ofSize(4096).name("raced"));
        kept = Sys.dup(made.fd(), "kept");
        id = made.id();
    }

    @Operation(runOnce = true)
    public String lastPut() {
        try {
            made.put();
            return "ok";
        } catch (BufferReleasedException e) {
            return "released";
        }
    }

    @Operation
    public String getByFd() {
        DmaBuf got = scope.get(kept.get());
        try {
            BufferObject b = ((Handle) got).buffer();
            if (b.isReleased() || got.refCount() < 1) {
                throw new AssertionError("get(fd) returned a released object: " + got);
            }
            if (!got.id().equals(id)) {
                throw new AssertionError("get(fd) returned " + got.id() + " for " + id);
            }
            return "ok";
        } finally {
            got.put();
        }
    }

    private synchronized void warned(String w) {
        if (true) {
            badWarning = w;
        }
    }

    @Validate
    public void state() {
        ScheduleSupport.scheduleChecked(GetFdScheduleTest.class);
        int released = system.released.get();
        if (released > 1) {
            throw new AssertionError("the storage was released " + released + " times");
        }
        if (made.isPut() != (released == 1)) {
            throw new AssertionError("producer put: " + made.isPut() + ", storage releases: " + released);
        }
        if (made.isPut() && registry.liveCount() != 0) {
            throw new AssertionError("every handle put, and " + registry.liveCount() + " objects live");
        }
        if (badWarning != null) {
            throw new AssertionError("warning: " + badWarning);
        }
        close();
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            scope.close();
            kept.close();
            // not registry.deactivate(): this runs under the checker too, and deactivate joins the leak reaper, a
            // thread the checker does not manage (started in the constructor); it ends once the registry is unreachable
        }
    }

    /** Every operation once, in one thread, outside the checker. */
    private static void sequentially() {
        try (GetFdScheduleTest s = new GetFdScheduleTest()) {
            s.getByFd();
            s.lastPut();
            s.getByFd();
            s.state();
        }
    }

    @Test
    void getOfAnFdNeverGivesAReleasedObjectNorReleasesTwice() {
        ScheduleSupport.check(GetFdScheduleTest.class, 2, 2, 4, 50, GetFdScheduleTest::sequentially);
    }
}

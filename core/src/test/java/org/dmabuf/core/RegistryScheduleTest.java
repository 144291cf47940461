package org.dmabuf.core;

import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferReleasedException;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.Device;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaDirection;
import org.dmabuf.api.SgTable;
import org.dmabuf.spi.DmaBufExporter;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.jetbrains.lincheck.datastructures.ThreadIdGen;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;

/**
 * The registry's reference and device rules on one buffer, from three threads, under Lincheck's model checker
 * ({@link ScheduleSupport}): every schedule of each scenario, not the ones a run happens to hit.
 *
 * <p>Thread {@code t} holds handle {@code t}: the producer's own, a second reference of the producer
 * ({@code DmaBuf.get()}), and the consumer's ({@code registry.get(DmaBuf)}, another client). Its operations: attach,
 * map, unmap and detach a device; attach and map, then put with both still open (the release must undo them); put
 * (again: a double put). Each operation
 * returns {@code ok} or the typed error it met, so the checker also verifies that the results are those of some
 * sequential order: every op on a put handle gives {@link BufferReleasedException}.
 *
 * <p>Inside each schedule: the storage is never released while a thread holds a live handle (checked at each map).
 * After each schedule ({@link #state()}): the exporter released its storage at most once, and exactly when every
 * handle was put; the reference count equals the handles not put (never below); the exporter's attach/detach and
 * map/unmap counts match the attachments left mapped; the registry lists the buffer exactly while it is live; no
 * warning of an underflow or a failed op; then, once the clients unmapped, detached and put what they left,
 * everything is released, detached and unmapped.
 *
 * <p>Not explored under the checker, for the tool's sake: late allocation (see the constructor), CPU access
 * ({@code GuardedMemory}'s cleaner) and bufinfo (its sort), and {@code OwnerScope.close()} (its log line): the
 * checker fails inside the JDK code they reach (lambdas and records it cannot snapshot); {@code ConcurrencyTest}
 * covers them with real threads.
 *
 * <p>Host only: TestExporter's memfds, no kernel driver. Figures and the long run: {@link ScheduleSupport}.
 */
public class RegistryScheduleTest implements AutoCloseable {
    private static final int THREADS = 3;

    private final BufferRegistry registry = new BufferRegistry();
    private final TestExporter system = new TestExporter("system", 100).with(DmaBufExporter.MAX_SIZE, 64L << 20);
    /** The registry's warnings that say something went wrong (underflow, an op failing); the checker needs fields. */
    private String badWarning;
    private final OwnerScope producer;
    private final OwnerScope consumer;
    private final DmaBuf h0;
    private final DmaBuf h1;
    private final DmaBuf h2;
    private final Device d0 = Device.of("dev0", DeviceConstraints.NONE);
    private final Device d1 = Device.of("dev1", DeviceConstraints.NONE);
    private final Device d2 = Device.of("dev2", DeviceConstraints.NONE);
    /** The attachment (mapped) that thread t left open when it put its handle; fields: the checker tracks them best. */
    private Attachment left0;
    private Attachment left1;
    private Attachment left2;
    private SgTable mapped0;
    private SgTable mapped1;
    private SgTable mapped2;
    private boolean closed;

    public RegistryScheduleTest() {
        registry.onWarning(this::warned);
        registry.bindExporter(system, system.props);
        producer = registry.open("producer");
        consumer = registry.open("consumer");
        // allocated, not created for late allocation: the registry lists a pending buffer in an identity set, and the
        // checker's identity hash codes inside a schedule differ from the real ones here, so the commit inside the
        // schedule would not find the entry made here (an artefact of the tool, not of the registry)
        h0 = producer.allocate(BufferRequest.ofSize(3 * 4096).name("shared"));
        h1 = h0.get();
        h2 = consumer.get(h0);
    }

    /**
     * The handle of the thread with Lincheck's id {@code t} ({@link ThreadIdGen} numbers the threads from 1): each
     * thread has its own (fields, not an array: the checker tracks them best).
     */
    private DmaBuf handle(int t) {
        int i = Math.floorMod(t, THREADS);
        return i == 0 ? h0 : i == 1 ? h1 : h2;
    }

    private Device device(int t) {
        int i = Math.floorMod(t, THREADS);
        return i == 0 ? d0 : i == 1 ? d1 : d2;
    }

    /** The storage is live while the caller holds a live handle. */
    private void storageLive(String where) {
        if (system.released.get() != 0) {
            throw new AssertionError(where + ": the exporter released the storage while a handle was live");
        }
    }

    @Operation
    public String useDevice(@Param(gen = ThreadIdGen.class) int t) {
        DmaBuf h = handle(t);
        try {
            Attachment a = h.attach(device(t));
            SgTable table = h.map(a, DmaDirection.BIDIRECTIONAL);
            storageLive("map");
            if (table.segments().isEmpty()) {
                throw new AssertionError("a mapping without segments");
            }
            h.unmap(table);
            h.detach(a);
            return "ok";
        } catch (BufferReleasedException e) {
            return "released";
        }
    }

    @Operation
    public String attachMapAndPut(@Param(gen = ThreadIdGen.class) int t) {
        DmaBuf h = handle(t);
        try {
            Attachment a = h.attach(device(t));
            SgTable m = h.map(a, DmaDirection.TO_DEVICE);
            storageLive("map");
            if (Math.floorMod(t, THREADS) == 0) {
                left0 = a;
                mapped0 = m;
            } else if (Math.floorMod(t, THREADS) == 1) {
                left1 = a;
                mapped1 = m;
            } else {
                left2 = a;
                mapped2 = m;
            }
            h.put(); // with the attachment and its mapping still open: the last put undoes them
            return "ok";
        } catch (BufferReleasedException e) {
            return "released";
        }
    }

    @Operation
    public String put(@Param(gen = ThreadIdGen.class) int t) {
        try {
            handle(t).put();
            return "ok";
        } catch (BufferReleasedException e) {
            return "released";
        }
    }

    /** Unmaps and detaches what a thread left open, if its buffer's release did not already. */
    private static void undo(SgTable m, Attachment a) {
        if (a != null && a.isAttached()) {
            m.close();
            a.close();
        }
    }

    private static int open(Attachment a) {
        return a != null && a.isAttached() ? 1 : 0;
    }

    private synchronized void warned(String w) {
        if (w.contains("underflow") || w.contains("failed")) {
            badWarning = w;
        }
    }

    /** After each schedule: the counts agree with one another; then everything is released and nothing is left. */
    @Validate
    public void state() {
        ScheduleSupport.scheduleChecked(RegistryScheduleTest.class);
        int live = 0;
        for (int t = 0; t < THREADS; t++) {
            live += handle(t).isPut() ? 0 : 1;
        }
        int allocated = system.allocated.get();
        int released = system.released.get();
        if (allocated > 1 || released > allocated) {
            throw new AssertionError("allocated " + allocated + ", released " + released);
        }
        BufferObject b = ((Handle) h0).buffer();
        if (live > 0) {
            if (released != 0 || b.refCount() != live || registry.liveCount() != 1) {
                throw new AssertionError(live + " live handles, reference count " + b.refCount() + ", released "
                        + released + ", listed " + registry.liveCount());
            }
            int open = open(left0) + open(left1) + open(left2);
            if (system.attached.get() - system.detached.get() != (allocated == 0 ? 0 : open)
                    || system.mapped.get() - system.unmapped.get() != open) {
                throw new AssertionError("exporter attach/detach " + system.attached + "/" + system.detached
                        + ", map/unmap " + system.mapped + "/" + system.unmapped + " with " + open
                        + " attachment(s) left mapped");
            }
        } else if (released != allocated || registry.liveCount() != 0 || !b.isReleased()) {
            throw new AssertionError("every handle put, yet allocated " + allocated + ", released " + released
                    + ", live " + registry.liveCount());
        }
        if (badWarning != null) {
            throw new AssertionError("warning: " + badWarning);
        }
        // what a client does before it stops: unmap and detach what it left, put its handles (not OwnerScope.close(),
        // whose log line the checker cannot run)
        undo(mapped0, left0);
        undo(mapped1, left1);
        undo(mapped2, left2);
        for (int t = 0; t < THREADS; t++) {
            handle(t).close();
        }
        if (system.released.get() != system.allocated.get() || system.attached.get() != system.detached.get()
                || system.mapped.get() != system.unmapped.get()) {
            throw new AssertionError("after every client closed: allocated/released " + system.allocated + "/"
                    + system.released + ", attach/detach " + system.attached + "/" + system.detached
                    + ", map/unmap " + system.mapped + "/" + system.unmapped);
        }
    }

    /**
     * Closes both clients and stops the registry, joining its leak reaper: for the sequential pass only, outside the
     * checker (which does not manage the reaper, started in the constructor; under the checker the reaper ends by
     * itself once its registry is unreachable).
     */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            producer.close();
            consumer.close();
            registry.deactivate();
        }
    }

    /** Every operation once, in one thread, outside the checker. */
    private static void sequentially() {
        try (RegistryScheduleTest s = new RegistryScheduleTest()) {
            s.useDevice(0);
            s.attachMapAndPut(0);
            s.put(0);
            s.put(1);
            s.put(2);
            s.state();
        }
    }

    @Test
    void everyScheduleOfThreeThreadsOnOneBufferKeepsTheRules() {
        ScheduleSupport.check(RegistryScheduleTest.class, THREADS, 2, 6, 50, RegistryScheduleTest::sequentially);
    }
}

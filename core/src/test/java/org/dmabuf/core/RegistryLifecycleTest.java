package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.Device;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.ExporterInfo;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.Sys;
import org.junit.jupiter.api.Test;

/**
 * Lifecycles of references across clients and the core: whose a reference is, what the core's stop leaves
 * behind, a lookup racing the last put, and a handle dropped together with its attachment.
 */
class RegistryLifecycleTest extends RegistryFixture {
    @Test
    void aReferenceTakenByAnotherClientIsThatClientsAndOutlivesTheProducer() {
        OwnerScope producer = registry.open("producer");
        OwnerScope consumer = registry.open("consumer");
        DmaBuf made = producer.allocate(BufferRequest.ofSize(4096).name("frame"));
        try (CpuAccess w = made.beginCpuAccess(SyncDirection.WRITE)) {
            w.putInt(0, 42);
        }
        DmaBuf sameOwner = made.get();
        DmaBuf taken = consumer.get(made);
        assertThat(taken.id()).isEqualTo(made.id());
        assertThat(made.refCount()).isEqualTo(3);
        assertThat(registry.bufinfo()).singleElement().satisfies(i -> assertThat(i.owner()).isEqualTo("producer"));

        producer.close(); // the producer bundle stops
        assertThat(made.isPut()).isTrue();
        assertThat(sameOwner.isPut()).as("DmaBuf.get() belongs to the producer").isTrue();
        assertThat(taken.isPut()).as("registry.get(DmaBuf) belongs to the consumer").isFalse();
        assertThat(taken.refCount()).isEqualTo(1);
        try (CpuAccess r = taken.beginCpuAccess(SyncDirection.READ)) {
            assertThat(r.getInt(0)).isEqualTo(42);
        }
        assertThat(system.released).hasValue(0);
        consumer.close();
        assertThat(system.released).hasValue(1);
    }

    @Test
    void theCoreStoppingVoidsOutstandingReferencesWithoutUnderflowOrFalseLeaks() {
        DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096).name("held"));
        DmaBuf second = buf.get();
        CpuAccess open = buf.beginCpuAccess(SyncDirection.READ);
        int syncs = system.syncs.get();
        dropAHandle(buf);

        registry.deactivate(); // the core stops with all of these still out
        assertThat(system.released).as("the storage was released").hasValue(1);
        assertThat(warnings).anyMatch(w -> w.contains("core stopping") && w.contains("'held'"));

        buf.put(); // no underflow
        second.close();
        open.close(); // no ioctl on the released storage's fd
        assertThat(system.syncs).as("no end sync after the release").hasValue(syncs);
        // the dropped handle's cleaner runs, and finds no leak: the core had voided that reference
        await("the dropped handle is cleaned").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20))
                .until(() -> {
                    System.gc();
                    return scope.openCount() == 0;
                });
        assertThat(registry.leakCount()).isZero();
        assertThat(warnings).noneMatch(w -> w.startsWith("leak:"));
    }

    /** Takes a reference and drops it unreachable, without put. */
    /** A registry listener told of released buffers only. */
    private static RegistryListener onReleased(java.util.function.Consumer<BufferInfo> released) {
        return new RegistryListener() {
            @Override
            public void bufferReleased(BufferInfo info) {
                released.accept(info);
            }

            @Override
            public void bufferCreated(BufferInfo info) {
            }

            @Override
            public void bufferAttached(BufferInfo info, String device) {
            }

            @Override
            public void exporterAdded(ExporterInfo info) {
            }

            @Override
            public void exporterRemoved(ExporterInfo info) {
            }
        };
    }

    private static void dropAHandle(DmaBuf buf) {
        buf.get();
    }

    @Test
    void getOfAnFdWhoseBufferIsBetweenItsLastPutAndForgetIsAdoptedAfresh() throws Exception {
        DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch gate = new CountDownLatch(1);
        // the release event comes after the last put and before the registry forgets the buffer's identity: hold it
        registry.addListener(onReleased(info -> {
            if (entered.getCount() > 0) {
                entered.countDown();
                try {
                    gate.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }));
        try (Fd dup = Sys.dup(buf.fd(), "kept")) {
            Future<?> put = pool.submit(buf::put); // the last put: released, not yet forgotten
            assertThat(entered.await(10, TimeUnit.SECONDS)).as("the release event").isTrue();

            Future<DmaBuf> got = pool.submit(() -> scope.get(dup.get()));
            DmaBuf fresh;
            try {
                fresh = got.get(10, TimeUnit.SECONDS); // a lookup that waited for forget() would time out
            } finally {
                gate.countDown();
                put.get(10, TimeUnit.SECONDS);
            }
            assertThat(fresh.id()).isEqualTo(Sys.fstat(dup.get()).id());
            assertThat(fresh.kind()).contains(BufferKind.MEMFD);
            assertThat(fresh.refCount()).as("a new object, not the one being released").isEqualTo(1);
            assertThat(registry.bufinfo()).singleElement().satisfies(i -> assertThat(i.id()).isEqualTo(fresh.id()));
            try (DmaBuf again = scope.get(dup.get())) {
                assertThat(again.refCount()).as("the fresh object is the known one now").isEqualTo(2);
            }
            fresh.close();
        } finally {
            pool.shutdownNow();
            assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void aHandleDroppedTogetherWithItsAttachmentIsReportedAsALeak() {
        attachAndDrop();
        // the reaper counts the leak, then releases the buffer (detaching it): wait for the release, not the count
        await("the leak report").atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).until(() -> {
            System.gc();
            return system.released.get() == 1;
        });
        assertThat(registry.leakCount()).isEqualTo(1);
        assertThat(warnings).anyMatch(w -> w.startsWith("leak:") && w.contains("'attached'"));
        assertThat(warnings).anyMatch(w -> w.contains("still attached") && w.contains("'probe'"));
        assertThat(system.released).hasValue(1);
    }

    /** A buffer with a device attached, both dropped without put or detach. */
    private void attachAndDrop() {
        DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096).name("attached"));
        Attachment a = buf.attach(Device.of("probe", DeviceConstraints.NONE));
        assertThat(a.buffer()).isSameAs(buf);
    }

    @Test
    void pendingAndCommittedBuffersAreLiveOnceAndReportTheirReleaseOnce() {
        java.util.List<String> released = new java.util.concurrent.CopyOnWriteArrayList<>();
        registry.addListener(onReleased(info -> released.add(info.name())));
        DmaBuf pending = scope.create(BufferRequest.ofSize(4096).name("late"));
        DmaBuf now = scope.allocate(BufferRequest.ofSize(4096).name("now"));
        assertThat(registry.liveCount()).isEqualTo(2);
        assertThat(registry.bufinfo()).extracting(BufferInfo::name).containsExactlyInAnyOrder("late", "now");
        pending.fd(); // commits: the buffer moves to the registry's index by identity, still once
        assertThat(registry.liveCount()).isEqualTo(2);
        assertThat(registry.bufinfo()).extracting(BufferInfo::name).containsExactlyInAnyOrder("late", "now");
        try (DmaBuf again = scope.get(pending.fd())) {
            assertThat(again.id()).isEqualTo(pending.id());
        }
        pending.put();
        now.put();
        assertThat(released).as("one release event each").containsExactlyInAnyOrder("late", "now");
        assertThat(registry.liveCount()).isZero();
        assertThat(registry.bufinfo()).isEmpty();
    }

    @Test
    void theLeakReaperStartsWithTheFirstHandleAndTheCoreStoppingJoinsIt() {
        BufferRegistry fresh = new BufferRegistry();
        fresh.bindExporter(system, system.props);
        assertThat(fresh.reaperThread()).as("no handle yet, no thread").isNull();
        OwnerScope client = fresh.open("client");
        DmaBuf b = client.allocate(BufferRequest.ofSize(4096));
        Thread reaper = fresh.reaperThread();
        assertThat(reaper).isNotNull();
        assertThat(reaper.isAlive()).isTrue();
        assertThat(reaper.isDaemon()).isTrue();
        b.put();
        client.close();
        fresh.deactivate();
        assertThat(reaper.isAlive()).as("joined by deactivate").isFalse();
        assertThat(fresh.reaperThread()).isNull();
    }
}

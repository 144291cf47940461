package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.Device;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaDirection;
import org.dmabuf.api.SgTable;
import org.dmabuf.api.SyncDirection;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

/** Many threads on one buffer: reference counts and op counts stay exact. */
class ConcurrencyTest extends RegistryFixture {
    private static final int THREADS = 8;
    private static final int ROUNDS = 500;

    @RepeatedTest(3)
    void manyThreadsAttachMapAndReleaseOneBuffer() throws Exception {
        DmaBuf buf = scope.create(BufferRequest.ofSize(16384).name("shared"));
        CyclicBarrier start = new CyclicBarrier(THREADS);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                Device dev = Device.of("dev" + t, DeviceConstraints.NONE);
                int id = t;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < ROUNDS; i++) {
                        try (DmaBuf mine = buf.get()) {
                            Attachment a = mine.attach(dev);
                            SgTable table = a.map(DmaDirection.BIDIRECTIONAL);
                            if (i % 50 == 0) {
                                try (CpuAccess w = mine.beginCpuAccess(SyncDirection.WRITE)) {
                                    w.putInt(id * 4L, i);
                                }
                            }
                            mine.unmap(table);
                            a.close();
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(buf.refCount()).isEqualTo(1);
        assertThat(system.attached).hasValue(THREADS * ROUNDS);
        assertThat(system.detached).hasValue(THREADS * ROUNDS);
        assertThat(system.mapped).hasValue(THREADS * ROUNDS);
        assertThat(system.unmapped).hasValue(THREADS * ROUNDS);
        assertThat(system.allocated).as("late allocation happened exactly once").hasValue(1);
        assertThat(registry.bufinfo()).singleElement().satisfies(i -> {
            assertThat(i.attachedDevices()).isEmpty();
            assertThat(i.refCount()).isEqualTo(1);
        });
        assertThat(scope.openCount()).as("only the first handle is still tracked").isEqualTo(1);
        buf.put();
        assertThat(system.released).hasValue(1);
    }

    @Test
    void concurrentPutsOfTheSameHandleReleaseOnce() throws Exception {
        for (int round = 0; round < 50; round++) {
            DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096));
            CyclicBarrier start = new CyclicBarrier(4);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                results.add(pool.submit(() -> {
                    start.await();
                    try {
                        buf.put();
                        return true;
                    } catch (org.dmabuf.api.BufferReleasedException e) {
                        return false;
                    }
                }));
            }
            int succeeded = 0;
            for (Future<Boolean> f : results) {
                succeeded += f.get(10, TimeUnit.SECONDS) ? 1 : 0;
            }
            pool.shutdown();
            assertThat(succeeded).as("exactly one put succeeds").isEqualTo(1);
        }
        assertThat(system.released).hasValue(50);
    }
}

package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferId;
import org.dmabuf.api.BufferPool;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.BufferStateException;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.NoExporterException;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.Sys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Buffer pools on the test exporter's memfds: a frame comes back only when every holder released every one of its
 * buffers (the acquired handles, a {@code get()} from them, a handle {@code get(fd)} gave, a buffer received over a
 * channel in this process), steady state allocates nothing, bad input is refused with nothing left, and closing
 * races acquires and releases without losing or double-releasing a buffer.
 */
class PoolTest extends RegistryFixture {
    private static final Duration LONG = Duration.ofSeconds(30);

    @TempDir
    Path tmp;
    private ExecutorService threads;

    @BeforeEach
    void startThreads() {
        threads = Executors.newCachedThreadPool();
    }

    @AfterEach
    void stopThreads() throws InterruptedException {
        threads.shutdownNow();
        assertThat(threads.awaitTermination(30, TimeUnit.SECONDS)).as("test threads ended").isTrue();
        assertThat(warnings).as("warnings").isEmpty();
    }

    private static BufferRequest nv12() {
        return BufferRequest.ofFormat(PixelFormat.NV12, 64, 48).name("pool");
    }

    private static BufferId idOf(FrameBuffer f) {
        return f.buffer(0).id();
    }

    @Test
    void aThousandAcquireReleaseCyclesAllocateNothingAfterThePoolIsMade() {
        try (BufferPool pool = scope.createPool(nv12(), 3)) {
            assertThat(system.allocated).as("every buffer allocated when the pool is made").hasValue(3);
            assertThat(pool.allocations()).isEqualTo(3);
            assertThat(pool.size()).isEqualTo(3);
            assertThat(pool.available()).isEqualTo(3);
            assertThat(pool.format().describe()).isEqualTo("NV12 64x48 LINEAR [0:0+3072/64 0:3072+1536/64]");
            Set<BufferId> seen = new HashSet<>();
            for (int i = 0; i < 1000; i++) {
                try (FrameBuffer f = pool.acquire(Duration.ZERO)) {
                    assertThat(f).as("cycle %d", i).isNotNull();
                    assertThat(f.format()).isEqualTo(pool.format());
                    try (CpuAccess w = f.buffer(0).beginCpuAccess(SyncDirection.WRITE)) {
                        w.putLong(0, i);
                    }
                    seen.add(idOf(f));
                    assertThat(pool.available()).isEqualTo(2);
                }
            }
            assertThat(seen).as("the frames handed out").hasSize(3);
            assertThat(system.allocated).as("exporter allocations after 1000 cycles").hasValue(3);
            assertThat(system.released).as("nothing released while the pool lives").hasValue(0);
            assertThat(pool.allocations()).isEqualTo(3);
            assertThat(pool.available()).isEqualTo(3);
        }
        assertThat(system.released).as("closing the pool releases its free buffers").hasValue(3);
    }

    @Test
    void framesComeBackInTheOrderTheyWereFreed() {
        try (BufferPool pool = scope.createPool(nv12(), 3)) {
            FrameBuffer a = pool.acquire(Duration.ZERO);
            FrameBuffer b = pool.acquire(Duration.ZERO);
            FrameBuffer c = pool.acquire(Duration.ZERO);
            List<BufferId> order = List.of(idOf(b), idOf(c), idOf(a));
            b.close();
            c.close();
            a.close();
            for (BufferId expected : order) {
                try (FrameBuffer f = pool.acquire(Duration.ZERO)) {
                    assertThat(idOf(f)).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void aFrameHeldByAnExtraGetIsNotHandedOutAgainUntilThatReferenceIsPut() {
        try (BufferPool pool = scope.createPool(nv12(), 2)) {
            FrameBuffer first = pool.acquire(Duration.ZERO);
            BufferId held = idOf(first);
            DmaBuf extra = first.buffer(0).get(); // what a channel keeps until its peer releases the frame
            first.close();
            assertThat(pool.available()).as("the frame is still held by the extra reference").isEqualTo(1);
            try (FrameBuffer second = pool.acquire(Duration.ZERO)) {
                assertThat(idOf(second)).as("the other frame").isNotEqualTo(held);
                assertThat(pool.acquire(Duration.ZERO)).as("nothing free: the held frame is not handed out")
                        .isNull();
                assertThat(pool.acquire(Duration.ofMillis(50))).as("nothing came free in 50 ms").isNull();
                extra.close();
                assertThat(pool.available()).isEqualTo(1);
                try (FrameBuffer again = pool.acquire(Duration.ZERO)) {
                    assertThat(idOf(again)).as("the frame, once its last holder put it").isEqualTo(held);
                }
            }
        }
    }

    @Test
    void aFrameOfTwoBuffersIsFreeOnlyWhenBothAre() {
        try (BufferPool pool = scope.createPool(BufferRequest.ofFormat(PixelFormat.NV12M, 64, 48).name("m"), 1)) {
            assertThat(pool.format().buffers()).isEqualTo(2);
            assertThat(pool.allocations()).isEqualTo(2);
            assertThat(system.allocated).hasValue(2);
            FrameBuffer f = pool.acquire(Duration.ZERO);
            assertThat(f.buffers()).hasSize(2);
            assertThat(f.buffer(0).name()).isEqualTo("m-0");
            assertThat(f.buffer(1).name()).isEqualTo("m-0");
            DmaBuf chroma = f.buffer(1).get();
            f.close();
            assertThat(pool.available()).as("the luma buffer is free, the chroma one is not").isZero();
            assertThat(pool.acquire(Duration.ZERO)).isNull();
            chroma.close();
            assertThat(pool.available()).isEqualTo(1);
            try (FrameBuffer again = pool.acquire(Duration.ZERO)) {
                assertThat(again.buffers()).hasSize(2);
            }
        }
    }

    @Test
    void aHandleThatGetFdGaveOnAFreeFrameTakesItOffTheQueueUntilPut() {
        try (BufferPool pool = scope.createPool(nv12(), 1)) {
            Fd fd;
            try (FrameBuffer f = pool.acquire(Duration.ZERO)) {
                fd = Sys.dup(f.buffer(0).fd(), "kept");
            }
            try (fd) {
                assertThat(pool.available()).isEqualTo(1);
                DmaBuf again = scope.get(fd.get()); // the same buffer, by its identity
                assertThat(pool.available()).as("held through get(fd)").isZero();
                assertThat(pool.acquire(Duration.ZERO)).isNull();
                again.close();
                assertThat(pool.available()).isEqualTo(1);
            }
        }
    }

    @Test
    void aFrameReceivedOverAChannelInThisProcessKeepsItsBuffersFromThePoolUntilTheReceiverClosesIt() {
        Channels channels = new Channels(scope);
        Path socket = tmp.resolve("pool.sock");
        try (BufferPool pool = scope.createPool(nv12(), 1);
             ChannelListener listener = channels.listen(socket, ChannelOptions.sameUser());
             BufferChannel out = channels.connect(socket, ChannelOptions.sameUser());
             BufferChannel in = listener.accept(Duration.ofSeconds(5))) {
            BufferId sent;
            try (FrameBuffer f = pool.acquire(Duration.ZERO)) {
                sent = idOf(f);
                out.send(f, 1, Duration.ofSeconds(5));
            }
            ReceivedBuffer r = in.receive(Duration.ofSeconds(5));
            assertThat(r.buffer().id()).as("the same buffer").isEqualTo(sent);
            assertThat(pool.available()).as("the received frame holds the buffer").isZero();
            assertThat(pool.acquire(Duration.ZERO)).isNull();
            r.close();
            await().atMost(LONG).until(() -> pool.available() == 1);
            try (FrameBuffer f = pool.acquire(Duration.ZERO)) {
                assertThat(f).isNotNull();
            }
        }
    }

    @Test
    void aWaitingAcquireIsWokenByTheRelease() throws Exception {
        try (BufferPool pool = scope.createPool(nv12(), 1)) {
            FrameBuffer out = pool.acquire(Duration.ZERO);
            BufferId id = idOf(out);
            CompletableFuture<Thread> thread = new CompletableFuture<>();
            Future<FrameBuffer> waiter = threads.submit(() -> {
                thread.complete(Thread.currentThread());
                return pool.acquire(LONG);
            });
            Thread t = thread.get(30, TimeUnit.SECONDS);
            await().atMost(LONG).until(() -> t.getState() == Thread.State.TIMED_WAITING); // waiting in acquire
            out.close();
            try (FrameBuffer f = waiter.get(30, TimeUnit.SECONDS)) {
                assertThat(f).as("acquired once the frame was released").isNotNull();
                assertThat(idOf(f)).isEqualTo(id);
            }
        }
    }

    @Test
    void anInterruptedAcquireReturnsNullWithItsInterruptStatusSet() {
        try (BufferPool pool = scope.createPool(nv12(), 1); FrameBuffer out = pool.acquire(Duration.ZERO)) {
            assertThat(out).isNotNull();
            Thread.currentThread().interrupt();
            assertThat(pool.acquire(LONG)).isNull();
            assertThat(Thread.interrupted()).isTrue();
        }
    }

    @Test
    void badInputIsRefusedWithTypedErrorsAndNothingAllocated() {
        assertThatThrownBy(() -> scope.createPool(nv12(), 0)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("createPool").hasMessageContaining("EINVAL").hasMessageContaining("count 0");
        assertThatThrownBy(() -> scope.createPool(nv12(), -3)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("count -3");
        assertThatThrownBy(() -> scope.createPool(BufferRequest.ofSize(4096), 2))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("createPool")
                .hasMessageContaining("no format");
        assertThatThrownBy(() -> scope.createPool(nv12().exporter("nope"), 2))
                .isInstanceOf(NoExporterException.class).hasMessageContaining("ENODEV")
                .hasMessageContaining("'nope'");
        assertThat(system.allocated).hasValue(0);
        assertThat(registry.liveCount()).isZero();
    }

    @Test
    void aFailedAllocationInTheMiddleLeavesNothing() {
        AtomicInteger calls = new AtomicInteger();
        system.layout = r -> {
            if (calls.incrementAndGet() == 4) {
                throw new DmaBufException("ioctl(DMA_HEAP_IOCTL_ALLOC)", "ENOMEM", "out of memory");
            }
            return null;
        };
        cma.failAllocation = new DmaBufException("ioctl(DMA_HEAP_IOCTL_ALLOC)", "ENOMEM", "out of memory");
        assertThatThrownBy(() -> scope.createPool(BufferRequest.ofFormat(PixelFormat.NV12M, 64, 48), 3))
                .isInstanceOf(NoExporterException.class).hasMessageContaining("ENOMEM");
        assertThat(system.allocated).as("three buffers before the failure").hasValue(3);
        assertThat(system.released).as("all put").hasValue(3);
        assertThat(registry.liveCount()).isZero();
    }

    @Test
    void theExporterLateAllocationPicksForTheFirstBufferMakesEveryOther() {
        try (BufferPool pool = scope.createPool(BufferRequest.ofFormat(PixelFormat.YUV420M, 64, 48), 2)) {
            assertThat(pool.allocations()).isEqualTo(6);
            assertThat(system.allocated).hasValue(6);
            assertThat(cma.allocated).hasValue(0);
        }
        try (BufferPool pool = scope.createPool(nv12().exporter("cma"), 2)) {
            try (FrameBuffer f = pool.acquire(Duration.ZERO)) {
                assertThat(f.buffer(0).exporterService()).contains("cma");
            }
            assertThat(cma.allocated).hasValue(2);
        }
    }

    @Test
    void framesOutWhenThePoolClosesStayValidAndAreReleasedWithTheirLastHolder() {
        BufferPool pool = scope.createPool(nv12(), 3);
        FrameBuffer a = pool.acquire(Duration.ZERO);
        FrameBuffer b = pool.acquire(Duration.ZERO);
        DmaBuf keep = b.buffer(0).get();
        pool.close();
        pool.close();
        assertThat(system.released).as("the free frame is released at close").hasValue(1);
        assertThat(pool.available()).isZero();
        assertThatThrownBy(() -> pool.acquire(Duration.ZERO)).isInstanceOf(BufferStateException.class)
                .hasMessageContaining("acquire").hasMessageContaining("ESHUTDOWN").hasMessageContaining("closed");
        try (CpuAccess w = a.buffer(0).beginCpuAccess(SyncDirection.READ_WRITE)) {
            w.putLong(8, 42);
            assertThat(w.getLong(8)).isEqualTo(42);
        }
        a.close();
        assertThat(system.released).hasValue(2);
        b.close();
        assertThat(system.released).as("b's buffer still has a holder").hasValue(2);
        keep.close();
        assertThat(system.released).hasValue(3);
        assertThat(registry.liveCount()).isZero();
    }

    @Test
    void aClosedPoolWakesEveryWaitingAcquire() throws Exception {
        BufferPool pool = scope.createPool(nv12(), 1);
        FrameBuffer out = pool.acquire(Duration.ZERO);
        List<Future<Throwable>> results = new ArrayList<>();
        ConcurrentLinkedQueue<Thread> waiters = new ConcurrentLinkedQueue<>();
        CountDownLatch started = new CountDownLatch(4);
        for (int i = 0; i < 4; i++) {
            results.add(threads.submit(() -> {
                waiters.add(Thread.currentThread());
                started.countDown();
                try {
                    FrameBuffer f = pool.acquire(LONG);
                    return new AssertionError("acquired " + f + " from a closed pool");
                } catch (BufferStateException e) {
                    return e;
                }
            }));
        }
        assertThat(started.await(30, TimeUnit.SECONDS)).isTrue();
        await().atMost(LONG).until(() -> waiters.stream()
                .allMatch(t -> t.getState() == Thread.State.TIMED_WAITING)); // every one waiting in acquire
        pool.close();
        for (Future<Throwable> r : results) {
            assertThat(r.get(30, TimeUnit.SECONDS)).isInstanceOf(BufferStateException.class)
                    .hasMessageContaining("ESHUTDOWN");
        }
        out.close();
        assertThat(system.released).hasValue(1);
    }

    /** Several threads acquire and release as fast as they can while another closes the pool. */
    @RepeatedTest(20)
    void acquireRacingCloseLosesNoBufferAndReleasesEachOnce() throws Exception {
        BufferPool pool = scope.createPool(nv12(), 3);
        int workers = 4;
        CyclicBarrier go = new CyclicBarrier(workers + 1);
        CountDownLatch someCycles = new CountDownLatch(workers);
        List<Future<Integer>> results = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            results.add(threads.submit(() -> {
                go.await(30, TimeUnit.SECONDS);
                int cycles = 0;
                while (true) {
                    FrameBuffer f;
                    try {
                        f = pool.acquire(LONG);
                    } catch (BufferStateException closed) {
                        return cycles;
                    }
                    if (f == null) {
                        throw new AssertionError("no frame within " + LONG);
                    }
                    try (f) {
                        try (CpuAccess a = f.buffer(0).beginCpuAccess(SyncDirection.WRITE)) {
                            a.putLong(0, cycles);
                        }
                    }
                    if (++cycles == 10) {
                        someCycles.countDown();
                    }
                }
            }));
        }
        go.await(30, TimeUnit.SECONDS);
        if (!someCycles.await(30, TimeUnit.SECONDS)) {
            pool.close();
            for (Future<Integer> r : results) {
                r.get(30, TimeUnit.SECONDS); // the worker's failure
            }
            throw new AssertionError("the workers did not make ten cycles each within 30 s");
        }
        pool.close();
        for (Future<Integer> r : results) {
            assertThat(r.get(30, TimeUnit.SECONDS)).isGreaterThanOrEqualTo(10);
        }
        assertThat(system.released).as("every buffer released once its last frame closed").hasValue(3);
        assertThat(registry.liveCount()).isZero();
    }

    /** Frames out are released by their holders at the same moment the pool closes. */
    @RepeatedTest(50)
    void releaseRacingCloseReleasesEveryBufferExactlyOnce() throws Exception {
        BufferPool pool = scope.createPool(nv12(), 4);
        List<FrameBuffer> out = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            out.add(pool.acquire(Duration.ZERO));
        }
        CyclicBarrier go = new CyclicBarrier(out.size() + 1);
        List<Future<?>> done = new ArrayList<>();
        for (FrameBuffer f : out) {
            done.add(threads.submit(() -> {
                go.await(30, TimeUnit.SECONDS);
                f.close();
                return null;
            }));
        }
        done.add(CompletableFuture.runAsync(() -> {
            try {
                go.await(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            pool.close();
        }, threads));
        for (Future<?> d : done) {
            d.get(30, TimeUnit.SECONDS);
        }
        assertThat(system.released).as("four buffers, each released once").hasValue(4);
        assertThat(registry.liveCount()).isZero();
        assertThat(pool.available()).isZero();
    }

    @Test
    void theOwnersScopeClosingClosesItsPools() {
        BufferPool pool = scope.createPool(nv12(), 2);
        FrameBuffer out = pool.acquire(Duration.ZERO);
        scope.close();
        assertThatThrownBy(() -> pool.acquire(Duration.ZERO)).isInstanceOf(BufferStateException.class);
        assertThat(out.buffer(0).isPut()).as("the scope put the frame's handles too").isTrue();
        assertThat(registry.liveCount()).isZero();
        assertThat(system.released).hasValue(2);
    }

    @Test
    void aPoolDroppedWithoutCloseIsReportedAndClosed() {
        dropPool();
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20)).until(() -> {
            System.gc();
            return system.released.get() == 2;
        });
        assertThat(warnings).singleElement().asString().contains("leak: a buffer pool of 2 x NV12")
                .contains("dropped without close()");
        warnings.clear();
    }

    private void dropPool() {
        BufferPool pool = scope.createPool(nv12(), 2);
        assertThat(pool.available()).isEqualTo(2);
    }

    @Test
    void aPoolOfFramesThatExistAlreadyRecyclesThemOnTheirReferencesAndAllocatesNothing() {
        List<FrameBuffer> made = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            made.add(scope.allocateFrame(nv12()));
        }
        int allocatedBefore = system.allocated.get();
        try (BufferPool pool = scope.poolOf(made)) {
            assertThat(pool.size()).isEqualTo(2);
            assertThat(pool.allocations()).as("made elsewhere").isZero();
            assertThat(pool.format()).isEqualTo(made.get(0).format());
            FrameBuffer a = pool.acquire(Duration.ZERO);
            DmaBuf extra = a.buffer(0).get();
            a.close();
            FrameBuffer b = pool.acquire(Duration.ZERO);
            assertThat(idOf(b)).as("the other frame: the first is still held").isNotEqualTo(extra.id());
            b.close();
            assertThat(pool.available()).as("the frame held by the extra reference is out").isEqualTo(1);
            extra.close();
            assertThat(pool.available()).isEqualTo(2);
        }
        assertThat(system.allocated.get()).isEqualTo(allocatedBefore);
        assertThat(registry.liveCount()).as("closing the pool put the handles it took over").isZero();
    }

    @Test
    void aPoolOfFramesRefusesABufferWithOtherHoldersAndFramesOfTwoLayouts() {
        FrameBuffer one = scope.allocateFrame(nv12());
        FrameBuffer other = scope.allocateFrame(BufferRequest.ofFormat(PixelFormat.YUYV, 64, 48));
        try (DmaBuf extra = one.buffer(0).get()) {
            assertThatThrownBy(() -> scope.poolOf(List.of(one))).isInstanceOf(BufferStateException.class)
                    .hasMessageContaining("EBUSY").hasMessageContaining("2 references");
        }
        assertThatThrownBy(() -> scope.poolOf(List.of(one, other))).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("a pool has one format");
        assertThatThrownBy(() -> scope.poolOf(List.of())).isInstanceOf(InvalidArgumentException.class);
        one.close();
        other.close();
    }
}

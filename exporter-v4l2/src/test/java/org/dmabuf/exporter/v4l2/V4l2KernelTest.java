package org.dmabuf.exporter.v4l2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.jna.Structure;
import com.sun.jna.Structure.FieldOrder;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.Frame;
import org.dmabuf.api.FrameSource;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.linux.TestSupport;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.linux.Ioc;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.Sys;
import org.dmabuf.spi.DmaBufExporter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** vivid, in the kernel guest: export, capture, import into vgem, capture into heap buffers, errors. */
@Tag("kernel")
class V4l2KernelTest {
    /** vivid instance 0: single-planar capture. */
    private static final String VIDEO = "/dev/video0";
    /** vivid instance 1: multi-planar capture. */
    private static final String VIDEO_MPLANE = "/dev/video1";
    private static final int YUYV = BufferFormat.fourcc("YUYV");
    private long fdsBefore;

    @BeforeEach
    void baseline() {
        fdsBefore = bufferFds();
    }

    @AfterEach
    void nothingLeft() {
        assertThat(bufferFds()).as("buffer and device fds left open").isEqualTo(fdsBefore);
        assertThat(bufferMappings()).as("buffer mappings left").isZero();
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {VIDEO, VIDEO_MPLANE})
    void vividCapturesWithTheSingleAndTheMultiPlanarApiAndReportsTheFormatItSet(String node) {
        try (V4l2Device d = new V4l2Device(node)) {
            assertThat(d.driver()).isEqualTo("vivid");
            assertThat(d.multiPlanar()).isEqualTo(node.equals(VIDEO_MPLANE));
            BufferFormat f = d.setFormat(320, 240, YUYV);
            assertThat(f.fourccName()).isEqualTo("YUYV");
            assertThat(f.width()).isEqualTo(320);
            assertThat(f.height()).as("vivid rounds 320x240 to its 16:9 frame").isEqualTo(180);
            assertThat(f.planes()).singleElement().satisfies(p -> {
                assertThat(p.stride()).isEqualTo(640);
                assertThat(p.length()).isEqualTo(640L * 180);
            });
        }
    }

    @Test
    void everyBufferIsExportedAsItsOwnDmaBuf() throws IOException {
        try (V4l2Device d = new V4l2Device(VIDEO); V4l2Exporter e = new V4l2Exporter(d, 320, 240, YUYV, 4)) {
            assertThat(e.bufferCount()).isEqualTo(4);
            Set<Long> inodes = new HashSet<>();
            for (int i = 0; i < 4; i++) {
                FdInfo info = FdInfo.read(e.exportedFd(i));
                assertThat(info.expName()).isEqualTo("videobuf2_vmalloc");
                assertThat(info.size()).isGreaterThanOrEqualTo(640L * 180);
                inodes.add(Sys.fstat(e.exportedFd(i)).inode());
            }
            assertThat(inodes).hasSize(4);
            assertThat(e.properties(50)).containsEntry(DmaBufExporter.NAME, "v4l2:vivid:video0")
                    .containsEntry(DmaBufExporter.EXP_NAME, "videobuf2_vmalloc");
            try (StandaloneRegistry r = new StandaloneRegistry("test").addExporter(e, e.properties(50));
                 DmaBuf b = r.allocate(BufferRequest.ofSize(640 * 180))) {
                assertThat(b.exporterService()).contains("v4l2:vivid:video0");
                assertThat(b.exporterName()).contains("videobuf2_vmalloc");
                assertThat(b.requestedSize()).isEqualTo(640L * 180);
                assertThat(b.size()).as("the dma-buf's size: the plane's length rounded to pages")
                        .isEqualTo(FdInfo.read(b.fd()).size()).isEqualTo(TestSupport.bufinfoSize(b.inode()))
                        .isEqualTo(118784);
                assertThatThrownBy(() -> r.allocate(BufferRequest.ofSize(1 << 20)))
                        .hasMessageContaining("exceeds the exporter's maximum of 115200 bytes");
            }
        }
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {VIDEO, VIDEO_MPLANE})
    void capturedFramesCarryVividsTestPattern(String node) {
        try (V4l2Device d = new V4l2Device(node); V4l2Exporter e = new V4l2Exporter(d, 320, 240, YUYV, 4);
             StandaloneRegistry r = new StandaloneRegistry("test"); FrameSource source = e.capture(r)) {
            long lastSequence = -1;
            for (int n = 0; n < 3; n++) {
                try (Frame f = source.next(Duration.ofSeconds(30))) {
                    assertThat(f).as("a frame arrives").isNotNull();
                    assertThat(f.sequence()).isGreaterThan(lastSequence);
                    lastSequence = f.sequence();
                    assertThat(f.bytesUsed()).isEqualTo(640L * 180);
                    assertThat(f.buffer().kind()).contains(BufferKind.DMA_BUF);
                    byte[] frame = new byte[640 * 180];
                    try (CpuAccess a = f.buffer().beginCpuAccess(SyncDirection.READ)) {
                        a.read(0, frame, 0, frame.length);
                    }
                    Set<Integer> lumas = new HashSet<>();
                    boolean nonZero = false;
                    for (int x = 0; x < 320; x++) {
                        int y = frame[90 * 640 + 2 * x] & 0xff; // Y of pixel x in the middle row
                        lumas.add(y);
                        nonZero |= y != 0;
                    }
                    assertThat(nonZero).as("not all zero").isTrue();
                    assertThat(lumas.size()).as("colour bars: several luma levels across a row").isGreaterThan(4);
                    assertThat(lumas).allSatisfy(y -> assertThat(y).isBetween(0, 255));
                }
            }
            assertThat(source.framesCaptured()).isGreaterThanOrEqualTo(3);
        }
    }

    @Test
    void aSlowConsumerDropsFramesButNeverStallsTheDriver() {
        try (V4l2Device d = new V4l2Device(VIDEO); V4l2Exporter e = new V4l2Exporter(d, 320, 240, YUYV, 4);
             StandaloneRegistry r = new StandaloneRegistry("test"); FrameSource source = e.capture(r)) {
            Frame held = source.next(Duration.ofSeconds(30));
            assertThat(held).isNotNull();
            await().atMost(Duration.ofSeconds(60)).until(() -> source.framesDropped() > 0);
            long heldSequence = held.sequence();
            held.close();
            try (Frame later = source.next(Duration.ofSeconds(30))) {
                assertThat(later).as("the driver still captures").isNotNull();
                assertThat(later.sequence()).isGreaterThan(heldSequence);
            }
        }
    }

    @Test
    void aFrameOutlivesTheCapture() {
        try (V4l2Device d = new V4l2Device(VIDEO); V4l2Exporter e = new V4l2Exporter(d, 320, 240, YUYV, 4);
             StandaloneRegistry r = new StandaloneRegistry("test")) {
            Frame kept;
            try (FrameSource source = e.capture(r)) {
                kept = source.next(Duration.ofSeconds(30));
                assertThat(kept).isNotNull();
            }
            try (CpuAccess a = kept.buffer().beginCpuAccess(SyncDirection.READ)) {
                assertThat(a.getByte(0)).isNotNull();
            }
            kept.close();
        }
    }

    @Test
    void vividBuffersImportIntoVgem() throws IOException {
        try (V4l2Device d = new V4l2Device(VIDEO); V4l2Exporter e = new V4l2Exporter(d, 320, 240, YUYV, 2);
             Fd card = Sys.open("/dev/dri/card0", LibC.O_RDWR)) {
            PrimeHandle p = new PrimeHandle();
            p.fd = e.exportedFd(0);
            Sys.ioctl(card.get(), org.dmabuf.linux.Ioc.request(PRIME_FD_TO_HANDLE), "DRM_IOCTL_PRIME_FD_TO_HANDLE",
                    "/dev/dri/card0", p);
            assertThat(attachedDevices(Sys.fstat(e.exportedFd(0)).inode())).contains("vgem");
            GemClose c = new GemClose();
            c.handle = p.handle;
            Sys.ioctl(card.get(), org.dmabuf.linux.Ioc.request(GEM_CLOSE), "DRM_IOCTL_GEM_CLOSE", "/dev/dri/card0", c);
            assertThat(attachedDevices(Sys.fstat(e.exportedFd(0)).inode())).doesNotContain("vgem");
        }
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {VIDEO, VIDEO_MPLANE})
    void heapBuffersQueuedAsDmabufReceiveFrames(String node) throws IOException {
        try (V4l2Device d = new V4l2Device(node);
             StandaloneRegistry r = new StandaloneRegistry("test").addExporter(new TestSupport.RawSystemHeap(),
                     TestSupport.RawSystemHeap.properties(1))) {
            BufferFormat f = d.setFormat(320, 240, YUYV);
            assertThat(d.queueAttachesDmaBufs()).as("vivid's videobuf2_vmalloc maps dma-bufs, attaches none")
                    .isFalse();
            try (FrameSource capture = V4l2Capture.into(d, f, r, "system", 3)) {
                assertThat(r.bufinfo()).hasSize(3).allSatisfy(i -> assertThat(i.exporter()).isEqualTo("system"));
                for (int n = 0; n < 2; n++) {
                    try (Frame frame = capture.next(Duration.ofSeconds(30))) {
                        assertThat(frame).as("vivid filled a heap buffer").isNotNull();
                        assertThat(frame.bytesUsed()).isEqualTo(640L * 180);
                        assertThat(frame.buffer().exporterName()).contains("system");
                        assertThat(FdInfo.read(frame.buffer().fd()).expName()).isEqualTo("system");
                        for (org.dmabuf.api.BufferInfo i : r.bufinfo()) {
                            assertThat(i.attachedDevices()).containsExactly("v4l2:vivid:" + node.substring(5));
                            assertThat(i.kernelDevices()).as("the kernel devices are debugfs bufinfo's")
                                    .isEqualTo(attachedDevices(i.inode()));
                        }
                        try (CpuAccess a = frame.buffer().beginCpuAccess(SyncDirection.READ)) {
                            boolean nonZero = false;
                            for (int x = 0; x < 640 && !nonZero; x += 2) {
                                nonZero = a.getByte(90 * 640 + x) != 0;
                            }
                            assertThat(nonZero).as("the frame landed in the heap buffer").isTrue();
                        }
                    }
                }
            }
            assertThat(r.bufinfo()).as("the capture released the heap buffers").isEmpty();
        }
    }

    /**
     * Capture into a pool: a frame a consumer still holds through a reference of its own (as a buffer channel holds
     * one until its peer releases the frame) is not given back to the driver, so vivid never writes into it; once
     * put, the refill thread queues it again. No buffer is allocated after the pool.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {VIDEO, VIDEO_MPLANE})
    void aPooledFrameHeldByAnExtraReferenceIsNotQueuedAgainUntilPut(String node) {
        try (V4l2Device d = new V4l2Device(node);
             StandaloneRegistry r = new StandaloneRegistry("test").addExporter(new TestSupport.RawSystemHeap(),
                     TestSupport.RawSystemHeap.properties(1))) {
            BufferFormat f = d.setFormat(320, 240, YUYV);
            try (V4l2Capture capture = V4l2Capture.into(d, f, r, "system", 3)) {
                aHeldFrameIsNotWrittenUntilPut(capture);
                assertThat(capture.pool().allocations()).isEqualTo(3);
                assertThat(r.bufinfo()).as("the pool's buffers, no other").hasSize(3);
            }
            assertThat(r.bufinfo()).as("the capture released the pool").isEmpty();
        }
    }

    /**
     * Capture into the driver's own (MMAP) buffers: they are a pool too, so a frame held through a reference of its
     * own (a buffer channel's, until its consumer returns the frame) is not given back to the driver while held, and
     * vivid never writes into it; once put, it is queued again.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {VIDEO, VIDEO_MPLANE})
    void anMmapFrameHeldByAnExtraReferenceIsNotGivenBackToTheDriverUntilPut(String node) {
        try (V4l2Device d = new V4l2Device(node); V4l2Exporter e = new V4l2Exporter(d, 320, 240, YUYV, 3);
             StandaloneRegistry r = new StandaloneRegistry("test")) {
            V4l2Capture capture = (V4l2Capture) e.capture(r);
            try {
                aHeldFrameIsNotWrittenUntilPut(capture);
                assertThat(capture.pool().allocations()).as("the driver's buffers: nothing allocated").isZero();
                assertThat(capture.pool().size()).isEqualTo(3);
            } finally {
                capture.close();
            }
            assertThat(r.bufinfo()).as("the capture released the driver's buffers").isEmpty();
        }
    }

    /**
     * Holds the first frame's buffer through a reference of its own after closing the frame, checks that the next
     * twelve frames come from the other buffers and that the held one keeps its bytes, then puts it and waits for
     * it to be filled again.
     */
    private static void aHeldFrameIsNotWrittenUntilPut(V4l2Capture capture) {
        org.dmabuf.api.BufferId keptId;
        try (Frame first = capture.next(Duration.ofSeconds(30))) {
            assertThat(first).as("vivid filled a buffer").isNotNull();
            DmaBuf kept = first.buffer().get();
            keptId = kept.id();
            first.close();
            try (kept) {
                byte[] before = contents(kept, first.bytesUsed());
                for (int n = 0; n < 12; n++) {
                    try (Frame frame = capture.next(Duration.ofSeconds(30))) {
                        assertThat(frame).as("frame %d from the two other buffers", n).isNotNull();
                        assertThat(frame.buffer().id()).as("frame %d", n).isNotEqualTo(keptId);
                    }
                }
                assertThat(contents(kept, first.bytesUsed())).as("the held frame, untouched").isEqualTo(before);
            }
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            try (Frame frame = capture.next(Duration.ofSeconds(30))) {
                return frame != null && frame.buffer().id().equals(keptId);
            }
        });
    }

    private static byte[] contents(DmaBuf b, long length) {
        byte[] out = new byte[(int) length];
        try (CpuAccess a = b.beginCpuAccess(SyncDirection.READ)) {
            a.read(0, out, 0, out.length);
        }
        return out;
    }

    /** start (a first next) and close from several threads at once, many times over. */
    @Test
    void startAndCloseRacingFromSeveralThreadsLeaveNoThreadNoStreamingNoBuffer() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try (V4l2Device d = new V4l2Device(VIDEO); V4l2Exporter e = new V4l2Exporter(d, 320, 240, YUYV, 4);
             StandaloneRegistry r = new StandaloneRegistry("test")) {
            for (int round = 0; round < 25; round++) {
                FrameSource source = e.capture(r);
                CountDownLatch go = new CountDownLatch(1);
                List<Future<?>> calls = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    boolean closer = (t + round) % 2 == 0;
                    calls.add(pool.submit(() -> {
                        go.await();
                        if (closer) {
                            source.close();
                        } else {
                            nextOrClosed(source, Duration.ZERO);
                        }
                        return null;
                    }));
                }
                go.countDown();
                for (Future<?> f : calls) {
                    f.get();
                }
                source.close();
                assertThat(captureThreads()).as("round " + round + ": capture threads alive").isEmpty();
                for (int i = 0; i < 4; i++) {
                    assertThat(d.queryFlags(i, V4l2Uapi.V4L2_MEMORY_MMAP) & (V4l2Uapi.V4L2_BUF_FLAG_QUEUED
                            | V4l2Uapi.V4L2_BUF_FLAG_DONE)).as("round " + round + ": buffer " + i
                            + " is back from the driver (STREAMOFF)").isZero();
                }
                assertThat(r.bufinfo()).as("round " + round + ": the capture's handles are released").isEmpty();
            }
            try (FrameSource again = e.capture(r); Frame f = again.next(Duration.ofSeconds(30))) {
                assertThat(f).as("the device still captures").isNotNull();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Consumers in next() while another thread closes: each gets frames, then the closed error; nothing is left. */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {VIDEO, VIDEO_MPLANE})
    void nextRacingCloseEndsEveryConsumerAndReturnsEveryFrame(String node) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try (V4l2Device d = new V4l2Device(node); V4l2Exporter e = new V4l2Exporter(d, 320, 240, YUYV, 4);
             StandaloneRegistry r = new StandaloneRegistry("test")) {
            FrameSource source = e.capture(r);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Integer>> consumers = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                consumers.add(pool.submit(() -> {
                    go.await();
                    int frames = 0;
                    while (true) {
                        try (Frame f = source.next(Duration.ofSeconds(30))) {
                            if (f != null) {
                                frames++;
                            }
                        } catch (DmaBufException closed) {
                            assertThat(closed).hasMessageContaining("is closed");
                            return frames;
                        }
                    }
                }));
            }
            go.countDown();
            await().atMost(Duration.ofSeconds(60)).until(() -> source.framesCaptured() >= 3);
            source.close();
            await().atMost(Duration.ofSeconds(60)).until(() -> consumers.stream().allMatch(Future::isDone));
            int frames = 0;
            for (Future<Integer> c : consumers) {
                frames += c.get();
            }
            assertThat(frames).isPositive();
            assertThat(captureThreads()).isEmpty();
            for (int i = 0; i < 4; i++) {
                assertThat(d.queryFlags(i, V4l2Uapi.V4L2_MEMORY_MMAP) & (V4l2Uapi.V4L2_BUF_FLAG_QUEUED
                        | V4l2Uapi.V4L2_BUF_FLAG_DONE)).as("buffer " + i + " is back from the driver").isZero();
            }
            assertThat(r.bufinfo()).isEmpty();
            assertThatThrownBy(() -> source.next(Duration.ZERO)).isInstanceOf(DmaBufException.class)
                    .hasMessageContaining("is closed");
        } finally {
            pool.shutdownNow();
        }
    }

    /** Streaming with no buffer queued: a non-blocking DQBUF's EAGAIN is "no frame", answered at once. */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {VIDEO, VIDEO_MPLANE})
    void aNonBlockingDqbufWithNothingFilledIsNoFrame(String node) {
        try (V4l2Device d = new V4l2Device(node)) {
            d.setFormat(320, 240, YUYV);
            d.requestBuffers(2, V4l2Uapi.V4L2_MEMORY_MMAP);
            d.streamOn();
            try {
                CompletableFuture<V4l2Device.Dequeued> none = CompletableFuture.supplyAsync(
                        () -> d.dequeueReady(V4l2Uapi.V4L2_MEMORY_MMAP));
                await().atMost(Duration.ofSeconds(60)).until(none::isDone);
                assertThat(none.join()).isNull();
            } finally {
                d.streamOff();
                d.requestBuffers(0, V4l2Uapi.V4L2_MEMORY_MMAP);
            }
            assertThatThrownBy(() -> d.dequeueReady(V4l2Uapi.V4L2_MEMORY_MMAP)).as("not streaming")
                    .isInstanceOf(LinuxException.class).hasMessageContaining("VIDIOC_DQBUF): EINVAL");
        }
    }

    private static Frame nextOrClosed(FrameSource source, Duration timeout) {
        try (Frame f = source.next(timeout)) {
            return f;
        } catch (DmaBufException e) {
            assertThat(e).hasMessageContaining("is closed");
            return null;
        }
    }

    private static List<String> captureThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(Thread::isAlive).map(Thread::getName)
                .filter(n -> n.startsWith(V4l2Capture.THREAD_NAME) || n.startsWith(V4l2Capture.REFILL_THREAD_NAME))
                .toList();
    }

    @Test
    void theNodesKernelNameIsItsSysfsDevice() {
        for (String node : List.of(VIDEO, VIDEO_MPLANE)) {
            try (V4l2Device d = new V4l2Device(node)) {
                assertThat(d.kernelName()).as(node + ": vivid's instances share one platform device")
                        .contains("vivid.0");
                assertThat(new V4l2Importer(d, true).kernelName()).contains("vivid.0");
                assertThat(new V4l2Importer(d, false).kernelName()).isEmpty();
            }
        }
    }

    @Test
    void badNodesAndFormatsAreClearErrors() {
        assertThatThrownBy(() -> new V4l2Device("/dev/video9")).isInstanceOf(LinuxException.class)
                .hasMessage("open: ENOENT: /dev/video9: No such file or directory");
        assertThatThrownBy(() -> new V4l2Device("/dev/dri/card0")).isInstanceOf(LinuxException.class)
                .hasMessageContaining("ioctl(VIDIOC_QUERYCAP): ENOTTY: /dev/dri/card0");
        try (V4l2Device d = new V4l2Device(VIDEO)) {
            assertThatThrownBy(() -> d.setFormat(320, 240, BufferFormat.fourcc("XXXX")))
                    .isInstanceOf(org.dmabuf.api.InvalidArgumentException.class).hasMessageContaining("EINVAL")
                    .hasMessageContaining("/dev/video0 (vivid")
                    .hasMessageContaining("XXXX is not a pixel format of the table");
            assertThatThrownBy(() -> new V4l2Exporter(d, 320, 240, BufferFormat.fourcc("XXXX"), 4))
                    .hasMessageContaining("XXXX is not a pixel format of the table");
            assertThatThrownBy(() -> d.setFormat(320, 240, BufferFormat.fourcc("YM12")))
                    .isInstanceOf(LinuxException.class).hasMessageContaining("VIDIOC_S_FMT): EINVAL")
                    .hasMessageContaining("does not capture YM12; it offered");
        }
    }

    // ---- helpers ----

    static final long PRIME_FD_TO_HANDLE = Ioc.iowr('d', 0x2e, PrimeHandle.class);
    static final long GEM_CLOSE = Ioc.iow('d', 0x09, GemClose.class);

    /** {@code struct drm_prime_handle { __u32 handle; __u32 flags; __s32 fd; }}. */
    @FieldOrder({"handle", "flags", "fd"})
    public static class PrimeHandle extends Structure {
        /** {@code __u32 handle}. */
        public int handle;
        /** {@code __u32 flags}. */
        public int flags;
        /** {@code __s32 fd}. */
        public int fd;
    }

    /** {@code struct drm_gem_close { __u32 handle; __u32 pad; }}. */
    @FieldOrder({"handle", "pad"})
    public static class GemClose extends Structure {
        /** {@code __u32 handle}. */
        public int handle;
        /** {@code __u32 pad}. */
        public int pad;
    }

    static List<String> attachedDevices(long inode) throws IOException {
        return TestSupport.attachedDevices(inode);
    }

    private static long bufferFds() {
        return TestSupport.bufferFds();
    }

    private static long bufferMappings() {
        return TestSupport.mappings("/dmabuf:", "/dev/video");
    }
}

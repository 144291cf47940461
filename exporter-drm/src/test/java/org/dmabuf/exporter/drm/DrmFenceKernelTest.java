package org.dmabuf.exporter.drm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.Fence;
import org.dmabuf.api.FenceTimeoutException;
import org.dmabuf.api.FenceUnsupportedException;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.linux.CProbe;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.SyncFile;
import org.dmabuf.linux.Sys;
import org.dmabuf.linux.TestSupport;
import org.dmabuf.linux.UnixSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Fences in the kernel guest: vgem's fences stand for a device's pending work on a dumb buffer; the buffer's
 * fences are exported as sync_files ({@code DMA_BUF_IOCTL_EXPORT_SYNC_FILE}), waited on, merged, imported into a
 * system-heap buffer and sent to a consumer process.
 *
 * <p>vgem signals a fence by itself 10 s after attaching it. No wait here that must run out is longer than 100 ms,
 * and every test signals its fences with {@code DRM_IOCTL_VGEM_FENCE_SIGNAL}, which the kernel refuses with
 * {@code ETIMEDOUT} for a fence it signalled already: a fence seen signalled after a successful signal call was
 * signalled by the test, not by the timer.
 */
@Tag("kernel")
class DrmFenceKernelTest {
    private static final String CARD = "/dev/dri/card0";
    private static final Duration SHORT = Duration.ofMillis(100);
    private static final Duration LONG = Duration.ofSeconds(5);
    private static final int SIZE = 65536;
    private static Path consumer;
    private DrmDevice device;
    private StandaloneRegistry registry;
    private long fdsBefore;
    private long syncFilesBefore;

    @BeforeAll
    static void compile() throws Exception {
        Path module = Path.of(DrmFenceKernelTest.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .getParent().getParent();
        consumer = CProbe.compile(module.resolve("src/test/c/fence_consumer.c"), module.resolve("target/probe"));
    }

    @BeforeEach
    void open() {
        fdsBefore = TestSupport.openFds();
        syncFilesBefore = TestSupport.syncFiles();
        device = new DrmDevice(CARD);
        DrmExporter exporter = new DrmExporter(device);
        registry = new StandaloneRegistry("fences").addExporter(exporter, exporter.properties(150))
                .addExporter(new TestSupport.RawSystemHeap(), TestSupport.RawSystemHeap.properties(100));
    }

    @AfterEach
    void nothingLeft() {
        registry.close();
        device.close();
        assertThat(TestSupport.syncFiles()).as("sync_file fds left open").isEqualTo(syncFilesBefore);
        assertThat(TestSupport.openFds()).as("fds left open: %s", TestSupport.openFdTargets()).isEqualTo(fdsBefore);
    }

    private DmaBuf vgemBuffer(String name) {
        return registry.allocate(BufferRequest.ofSize(SIZE).exporter("drm:vgem:card0").name(name));
    }

    /** A fence of vgem's on the buffer: its GEM handle in the device's file, attached and released around it. */
    private int attach(DmaBuf buf, boolean write) {
        int handle = device.importFd(buf.fd());
        try {
            return VgemFence.attach(device, handle, write);
        } finally {
            device.releaseImport(handle);
        }
    }

    @Test
    void aReaderFenceOfAPendingWriteSignalsOnlyWhenTheWriterSignals() {
        try (DmaBuf buf = vgemBuffer("written")) {
            try (Fence idle = buf.exportFence(SyncDirection.READ)) {
                assertThat(idle.isSignalled()).as("no work pending: signalled at once").isTrue();
            }
            int write = attach(buf, true);
            try (Fence f = buf.exportFence(SyncDirection.READ)) {
                assertThat(TestSupport.syncFiles()).isEqualTo(syncFilesBefore + 1);
                assertThat(f.isSignalled()).isFalse();
                assertThat(f.status()).isZero();
                assertThatThrownBy(() -> f.await(SHORT)).isInstanceOf(FenceTimeoutException.class)
                        .hasMessageContaining("await: ETIME: sync_file fd " + f.fd())
                        .hasMessageContaining("not signalled after 100 ms");
                assertThatThrownBy(() -> buf.awaitIdle(SyncDirection.READ, SHORT))
                        .isInstanceOf(FenceTimeoutException.class).hasMessageContaining("awaitIdle: ETIME")
                        .hasMessageContaining("(fd " + buf.fd() + "): writers still pending");
                VgemFence.signal(device, write);
                f.await(LONG);
                assertThat(f.isSignalled()).isTrue();
                assertThat(f.status()).isEqualTo(1);
                buf.awaitIdle(SyncDirection.READ, Duration.ZERO);
                buf.awaitIdle(SyncDirection.WRITE, Duration.ZERO);
            }
        }
    }

    @Test
    void aFrameSentWithItsWritersFenceArrivesWithTheFenceAndIsReadOnlyAfterTheSignal(@org.junit.jupiter.api.io.TempDir
            Path tmp) {
        Path socket = tmp.resolve("run/frames.sock");
        try (StandaloneRegistry other = new StandaloneRegistry("receiver");
             org.dmabuf.api.ChannelListener listener = other.channels().listen(socket,
                     org.dmabuf.api.ChannelOptions.sameUser());
             org.dmabuf.api.BufferChannel out = registry.channels().connect(socket,
                     org.dmabuf.api.ChannelOptions.sameUser());
             org.dmabuf.api.BufferChannel in = listener.accept(LONG);
             org.dmabuf.api.FrameBuffer frame = registry.allocateFrame(BufferRequest.ofFormat(
                     org.dmabuf.api.PixelFormat.XBGR32, 64, 64).exporter("drm:vgem:card0").name("fenced"))) {
            DmaBuf buf = frame.buffer(0);
            int write = attach(buf, true); // a device's pending write
            try (Fence f = buf.exportFence(SyncDirection.READ)) {
                out.send(frame, 5, LONG, f);
            }
            try (org.dmabuf.api.ReceivedBuffer r = in.receive(LONG)) {
                assertThat(r.tag()).isEqualTo(5);
                assertThat(r.buffer().id()).isEqualTo(buf.id());
                Fence received = r.fence().orElseThrow();
                assertThat(TestSupport.syncFiles()).as("the receiver's own sync_file").isEqualTo(syncFilesBefore + 1);
                assertThat(received.isSignalled()).isFalse();
                assertThatThrownBy(() -> received.await(SHORT)).isInstanceOf(FenceTimeoutException.class);
                // the "device" finishes: the producer writes through its mapping, then signals
                buf.mmap().putInt(0, 0x5a5a5a5a);
                VgemFence.signal(device, write);
                received.await(LONG);
                assertThat(r.buffer().mmap().getInt(0)).isEqualTo(0x5a5a5a5a);
            }
            assertThat(TestSupport.syncFiles()).as("closing the received frame closed its fence")
                    .isEqualTo(syncFilesBefore);
            try (Fence closed = buf.exportFence(SyncDirection.READ)) {
                closed.close();
                assertThatThrownBy(() -> out.send(frame, 6, LONG, closed)).hasMessageContaining("EBADF");
            }
        }
    }

    @Test
    void aPendingReadHoldsWritersButNotReaders() {
        try (DmaBuf buf = vgemBuffer("read")) {
            int read = attach(buf, false);
            try (Fence forReaders = buf.exportFence(SyncDirection.READ);
                 Fence forWriters = buf.exportFence(SyncDirection.WRITE)) {
                assertThat(forReaders.isSignalled()).as("readers do not wait for a reader").isTrue();
                assertThat(forWriters.isSignalled()).as("writers wait for every reader").isFalse();
                buf.awaitIdle(SyncDirection.READ, Duration.ZERO);
                assertThatThrownBy(() -> buf.awaitIdle(SyncDirection.READ_WRITE, SHORT))
                        .isInstanceOf(FenceTimeoutException.class)
                        .hasMessageContaining("readers or writers still pending");
                VgemFence.signal(device, read);
                forWriters.await(LONG);
                buf.awaitIdle(SyncDirection.WRITE, LONG);
            }
        }
    }

    @Test
    void aConsumerProcessReadsTheBufferOnlyAfterTheProducerSignals() throws Exception {
        Path dir = Files.createTempDirectory("fence");
        Path path = dir.resolve("s");
        try (DmaBuf buf = vgemBuffer("shared");
             UnixSocket listener = UnixSocket.listen(path, 0600)) {
            try (CpuAccess w = buf.beginCpuAccess(SyncDirection.WRITE)) {
                w.fill(0, SIZE, (byte) 0x11); // what the buffer held before the producer's work
            }
            Process p = new ProcessBuilder(consumer.toString(), path.toString(), Integer.toString(SIZE))
                    .redirectErrorStream(true).start();
            String out;
            try (UnixSocket conn = listener.accept(Duration.ofSeconds(60))) {
                assertThat(conn).as("the consumer connected").isNotNull();
                int write = attach(buf, true); // the producer's work starts
                try (Fence f = buf.exportFence(SyncDirection.READ)) {
                    conn.send("frame".getBytes(StandardCharsets.US_ASCII), buf.fd(), f.fd());
                }
                try (UnixSocket.Message waiting = conn.receive(16, Duration.ofSeconds(60))) {
                    assertThat(waiting).as("the consumer waits").isNotNull();
                    assertThat(new String(waiting.data(), StandardCharsets.US_ASCII)).isEqualTo("W");
                }
                // the producer's work: the bytes the consumer must see, written while it waits on the fence (through
                // the mapping: DMA_BUF_IOCTL_SYNC would wait for the pending fence itself)
                buf.mmap().fill(0, SIZE, (byte) 0x5a);
                VgemFence.signal(device, write);
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the consumer exits").isTrue();
                out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } finally {
                p.destroyForcibly();
                p.getInputStream().close();
                p.getOutputStream().close();
                p.getErrorStream().close();
            }
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out.lines().toList()).as("what the consumer saw")
                    .containsExactly("before 0", "after 1", "read " + SIZE + " 0x5a");
        } finally {
            Files.deleteIfExists(path);
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void aFenceImportedIntoAHeapBufferHoldsItsImplicitSync() {
        try (DmaBuf vgem = vgemBuffer("device"); DmaBuf heap = registry.allocate(BufferRequest.ofSize(SIZE)
                .exporter("system").name("heap"))) {
            assertThat(heap.exporterName()).contains("system");
            int write = attach(vgem, true);
            try (Fence f = vgem.exportFence(SyncDirection.READ)) {
                heap.importFence(f, SyncDirection.WRITE);
                heap.importFence(f, SyncDirection.READ);
            }
            assertThatThrownBy(() -> heap.awaitIdle(SyncDirection.READ, SHORT))
                    .isInstanceOf(FenceTimeoutException.class).hasMessageContaining("ETIME");
            try (Fence g = heap.exportFence(SyncDirection.READ)) {
                assertThat(g.isSignalled()).isFalse();
                VgemFence.signal(device, write);
                g.await(LONG);
            }
            heap.awaitIdle(SyncDirection.READ, LONG);
            heap.awaitIdle(SyncDirection.WRITE, LONG);
        }
    }

    @Test
    void aReadFenceImportedIntoAHeapBufferHoldsOnlyWriters() {
        try (DmaBuf vgem = vgemBuffer("device"); DmaBuf heap = registry.allocate(BufferRequest.ofSize(SIZE)
                .exporter("system").name("heap"))) {
            int write = attach(vgem, true);
            try (Fence f = vgem.exportFence(SyncDirection.READ)) {
                heap.importFence(f, SyncDirection.READ);
            }
            heap.awaitIdle(SyncDirection.READ, Duration.ZERO);
            assertThatThrownBy(() -> heap.awaitIdle(SyncDirection.WRITE, SHORT))
                    .isInstanceOf(FenceTimeoutException.class).hasMessageContaining("ETIME");
            VgemFence.signal(device, write);
            heap.awaitIdle(SyncDirection.WRITE, LONG);
        }
    }

    @Test
    void aMergedFenceSignalsOnlyWhenBothHave() {
        try (DmaBuf one = vgemBuffer("one"); DmaBuf two = vgemBuffer("two")) {
            int first = attach(one, true);
            int second = attach(two, true);
            try (Fence f1 = one.exportFence(SyncDirection.READ); Fence f2 = two.exportFence(SyncDirection.READ);
                 Fence both = f1.merge(f2, "both")) {
                assertThat(both.name()).isEqualTo("both");
                assertThat(TestSupport.syncFiles()).isEqualTo(syncFilesBefore + 3);
                VgemFence.signal(device, first);
                f1.await(LONG);
                assertThat(f2.isSignalled()).isFalse();
                assertThat(both.isSignalled()).isFalse();
                assertThat(both.status()).isZero();
                assertThatThrownBy(() -> both.await(SHORT)).isInstanceOf(FenceTimeoutException.class)
                        .hasMessageContaining("'both'");
                VgemFence.signal(device, second);
                both.await(LONG);
                assertThat(both.status()).isEqualTo(1);
            }
        }
    }

    @Test
    void aReceivedSyncFileIsTakenByDupAndAnythingElseIsRefused() {
        try (DmaBuf buf = vgemBuffer("dup")) {
            int write = attach(buf, true);
            try (Fence f = buf.exportFence(SyncDirection.READ); SyncFile copy = SyncFile.dup(f.fd())) {
                assertThat(copy.fd()).isNotEqualTo(f.fd());
                assertThat(copy.name()).isEqualTo(f.name());
                assertThat(copy.isSignalled()).isFalse();
                assertThatThrownBy(() -> SyncFile.dup(buf.fd())).isInstanceOf(LinuxException.class)
                        .hasMessageContaining("ioctl(SYNC_IOC_FILE_INFO): ENOTTY")
                        .hasMessageContaining("fd " + buf.fd() + " (/dmabuf:")
                        .hasMessageContaining("is not a sync_file");
                VgemFence.signal(device, write);
                copy.await(LONG);
                assertThat(f.isSignalled()).isTrue();
            }
        }
    }

    @Test
    void aClosedFenceIsRefusedWithEbadfNamingTheCallAndFd() {
        try (DmaBuf buf = vgemBuffer("closed"); DmaBuf other = vgemBuffer("other")) {
            Fence f = buf.exportFence(SyncDirection.READ);
            int fd = f.fd();
            f.close();
            f.close();
            assertThat(f.isClosed()).isTrue();
            for (var call : List.<Runnable>of(() -> f.await(SHORT), f::isSignalled, f::fd, f::status)) {
                assertThatThrownBy(call::run).isInstanceOf(LinuxException.class)
                        .hasMessageContaining("EBADF: sync_file fd " + fd + ": the fence was closed")
                        .satisfies(e -> assertThat(((LinuxException) e).errnoValue()).isEqualTo(Errno.EBADF));
            }
            assertThatThrownBy(() -> f.await(SHORT)).hasMessageStartingWith("await: EBADF");
            assertThatThrownBy(() -> other.importFence(f, SyncDirection.WRITE)).isInstanceOf(LinuxException.class)
                    .hasMessageStartingWith("fd: EBADF");
            try (Fence open = other.exportFence(SyncDirection.READ)) {
                assertThatThrownBy(() -> open.merge(f, "x")).isInstanceOf(LinuxException.class)
                        .hasMessageContaining("EBADF");
                assertThatThrownBy(() -> open.merge(open, "a name longer than thirty-one bytes"))
                        .isInstanceOf(LinuxException.class).hasMessageContaining("ioctl(SYNC_IOC_MERGE): EINVAL");
            }
        }
    }

    @Test
    void aMemfdHasNoFencesAndIsNoFenceAndAFenceFdThatIsNoSyncFileIsRefused() {
        try (Fd memfd = Sys.memfd("no-fence", 0);
             DmaBuf heap = registry.allocate(BufferRequest.ofSize(SIZE).exporter("system").name("heap"))) {
            int m = memfd.get();
            assertThatThrownBy(() -> SyncFile.dup(m)).isInstanceOf(LinuxException.class)
                    .hasMessageContaining("ioctl(SYNC_IOC_FILE_INFO): ENOTTY")
                    .hasMessageContaining("fd " + m + " (/memfd:no-fence");
            // on a kernel with fences, a file that is no dma-buf has none either
            assertThatThrownBy(() -> SyncFile.export(m, SyncDirection.READ, "memfd:no-fence"))
                    .isInstanceOf(FenceUnsupportedException.class)
                    .hasMessageContaining("ioctl(DMA_BUF_IOCTL_EXPORT_SYNC_FILE): ENOTTY")
                    .hasMessageContaining("memfd:no-fence (fd " + m + ")");
            try (Fence f = heap.exportFence(SyncDirection.READ)) {
                assertThat(f.isSignalled()).isTrue();
                assertThatThrownBy(() -> SyncFile.importInto(m, f, SyncDirection.WRITE, "memfd:no-fence"))
                        .isInstanceOf(FenceUnsupportedException.class)
                        .hasMessageContaining("ioctl(DMA_BUF_IOCTL_IMPORT_SYNC_FILE): ENOTTY");
            }
            // a fence whose fd is no sync_file, as a peer could send one: the kernel refuses it
            Fence notAFence = new Fence() {
                @Override
                public int fd() {
                    return m;
                }

                @Override
                public String name() {
                    throw new UnsupportedOperationException();
                }

                @Override
                public int status() {
                    throw new UnsupportedOperationException();
                }

                @Override
                public boolean isSignalled() {
                    throw new UnsupportedOperationException();
                }

                @Override
                public void await(Duration timeout) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public Fence merge(Fence other, String name) {
                    throw new UnsupportedOperationException();
                }

                @Override
                public boolean isClosed() {
                    return false;
                }

                @Override
                public void close() {
                }
            };
            assertThatThrownBy(() -> heap.importFence(notAFence, SyncDirection.WRITE))
                    .isInstanceOf(LinuxException.class)
                    .hasMessageContaining("ioctl(DMA_BUF_IOCTL_IMPORT_SYNC_FILE): EINVAL")
                    .hasMessageContaining("sync_file fd " + m);
            heap.awaitIdle(SyncDirection.WRITE, Duration.ZERO);
        }
    }
}

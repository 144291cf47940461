package org.dmabuf.exporter.heap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.dmabuf.api.Attachment;
import java.time.Duration;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferId;
import org.dmabuf.api.BufferPool;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.Device;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Mapping;
import org.dmabuf.linux.Sys;
import org.dmabuf.spi.DmaBufExporter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What every memory exporter must do, run against the real kernel object: the system dma-heap and udmabuf in the
 * kernel guest, the sealed memfd on any host. Each test ends with no buffer fd and no mapping left. The heap
 * exporters' own cases (frames, pools, zero-copy views, bufinfo); the contract every exporter passes is the test
 * kit's ({@code org.dmabuf.testkit.ExporterContract}, run by the {@code *ContractTest} classes).
 */
abstract class CommonExporterTests {
    StandaloneRegistry registry;
    private long fdsBefore;
    private long mapsBefore;

    abstract DmaBufExporter exporter();

    abstract Map<String, Object> properties();

    abstract BufferKind kind();

    abstract String exporterName();

    @BeforeEach
    void open() {
        fdsBefore = bufferFds();
        mapsBefore = bufferMappings();
        registry = new StandaloneRegistry("test").addExporter(exporter(), properties());
    }

    @AfterEach
    void nothingLeft() throws Exception {
        registry.close();
        if (exporter() instanceof AutoCloseable c) {
            c.close();
        }
        assertThat(bufferFds()).as("buffer fds left open").isEqualTo(fdsBefore);
        assertThat(bufferMappings()).as("buffer mappings left").isEqualTo(mapsBefore);
    }

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(longs = {4096, 65536, 1 << 20, 16 << 20, 64 << 20})
    void newBuffersOfEverySizeReadAsZeros(long size) {
        try (DmaBuf buf = registry.allocate(BufferRequest.ofSize(size))) {
            assertThat(buf.size()).isEqualTo(size).isEqualTo(buf.requestedSize());
            assertThat(buf.kind()).contains(kind());
            assertThat(buf.exporterService()).contains(exporterName());
            assertThat(buf.exporterName()).contains(kernelExpName());
            byte[] chunk = new byte[(int) Math.min(size, 1 << 20)];
            try (CpuAccess r = buf.beginCpuAccess(SyncDirection.READ)) {
                for (long off = 0; off < size; off += chunk.length) {
                    r.read(off, chunk, 0, chunk.length);
                    for (byte b : chunk) {
                        if (b != 0) {
                            throw new AssertionError("non-zero byte in a new buffer near offset " + off);
                        }
                    }
                }
            }
        }
    }

    @Test
    void writesThroughOneMappingAreSeenThroughAnIndependentMappingOfTheFd() {
        try (DmaBuf buf = registry.allocate(BufferRequest.ofSize(1 << 20))) {
            try (CpuAccess w = buf.beginCpuAccess(SyncDirection.WRITE)) {
                for (long off = 0; off < buf.size(); off += 4096) {
                    w.putLong(off, off * 31 + 7);
                }
            }
            try (Mapping m = Mapping.map(buf.fd(), buf.size(), "independent")) {
                for (long off = 0; off < buf.size(); off += 4096) {
                    assertThat(m.pointer().getLong(off)).isEqualTo(off * 31 + 7);
                }
                m.pointer().setLong(8, -1L);
            }
            try (CpuAccess r = buf.beginCpuAccess(SyncDirection.READ)) {
                assertThat(r.getLong(8)).isEqualTo(-1L);
            }
        }
    }

    @Test
    void aZeroCopyViewIsTheKernelsBufferAndOneLeftBehindNeverReachesItAfterTheRelease() {
        ByteBuffer stale;
        try (Fd kept = keptAlive(1 << 20);
                Mapping independent = Mapping.map(kept.get(), 1 << 20, "independent")) {
            // the registry's buffer was released by keptAlive(); the kernel's lives on through `kept`
            stale = lastView;
            lastView = null;
            assertThat(independent.pointer().getLong(4096)).as("written through the view")
                    .isEqualTo(0x0123456789abcdefL);
            assertThat(bufferMappings()).as("the registry's mapping of the released buffer is gone")
                    .isEqualTo(mapsBefore + 1);
            assertThat(stale.getLong(4096)).as("a view left behind reads zeros").isZero();
            stale.putLong(8192, -1L);
            assertThat(independent.pointer().getLong(8192)).as("a view left behind never writes the buffer")
                    .isZero();
        }
        assertThat(stale.capacity()).isEqualTo(1 << 20);
    }

    private ByteBuffer lastView;

    /**
     * Allocates a buffer, writes a long at 4096 through a zero-copy view (kept in {@link #lastView}), releases the
     * buffer and returns a dup of its fd that keeps the kernel's buffer alive.
     */
    private Fd keptAlive(long size) {
        try (DmaBuf buf = registry.allocate(BufferRequest.ofSize(size).name("view"))) {
            try (CpuAccess w = buf.beginCpuAccess(SyncDirection.READ_WRITE)) {
                lastView = w.byteBuffer();
                assertThat(lastView.isDirect()).isTrue();
                lastView.putLong(4096, 0x0123456789abcdefL);
                assertThat(w.getLong(4096)).isEqualTo(0x0123456789abcdefL);
            }
            return Sys.dup(buf.fd(), "the test's reference");
        }
    }

    @Test
    void importOfADuplicateFdReturnsTheSameBufferByInode() {
        try (DmaBuf buf = registry.allocate(BufferRequest.ofSize(65536).name("shared"))) {
            try (Fd received = Sys.dup(buf.fd(), "received"); DmaBuf again = registry.get(received.get())) {
                assertThat(again.id()).isEqualTo(buf.id()).isEqualTo(Sys.fstat(received.get()).id());
                assertThat(again.inode()).isEqualTo(buf.inode()).isEqualTo(Sys.fstat(received.get()).inode());
                assertThat(buf.refCount()).isEqualTo(2);
                assertThat(again.mmap()).isSameAs(buf.mmap());
            }
        }
    }

    @Test
    void aBufferMadeElsewhereIsAdoptedByItsExporter() {
        var storage = exporter().allocate(new org.dmabuf.spi.AllocationRequest(8192, "outside", null,
                org.dmabuf.api.DeviceConstraints.NONE));
        try (DmaBuf adopted = registry.get(storage.fd())) {
            assertThat(adopted.exporterService()).contains(exporterName());
            assertThat(adopted.exporterName()).contains(kernelExpName());
            assertThat(adopted.id()).isEqualTo(Sys.fstat(storage.fd()).id());
            assertThat(adopted.inode()).isEqualTo(storage.inode());
            assertThat(adopted.kind()).contains(kind());
            try (CpuAccess w = adopted.beginCpuAccess(SyncDirection.READ_WRITE)) {
                w.putInt(0, 1234);
                assertThat(w.getInt(0)).isEqualTo(1234);
            }
        } finally {
            storage.release();
        }
    }

    @Test
    void thirtyTwoAllocateReleaseRoundsLeaveNothingBehind() {
        long fds = bufferFds();
        long maps = bufferMappings();
        for (int i = 0; i < 32; i++) {
            DmaBuf buf = registry.allocate(BufferRequest.ofSize(256 * 1024).name("round" + i));
            try (CpuAccess w = buf.beginCpuAccess(SyncDirection.WRITE)) {
                w.fill(0, buf.size(), (byte) i);
            }
            assertThat(bufferFds()).isEqualTo(fds + 1);
            assertThat(bufferMappings()).isEqualTo(maps + 1);
            buf.put();
        }
        assertThat(bufferFds()).isEqualTo(fds);
        assertThat(bufferMappings()).isEqualTo(maps);
        assertThat(registry.bufinfo()).isEmpty();
    }

    @Test
    void bufinfoDescribesTheBuffer() {
        try (DmaBuf buf = registry.allocate(BufferRequest.ofSize(4096).name("info"))) {
            buf.mmap();
            assertThat(registry.bufinfo()).singleElement().satisfies(i -> {
                assertThat(i.inode()).isEqualTo(buf.inode());
                assertThat(i.id()).isEqualTo(buf.id());
                assertThat(i.exporter()).isEqualTo(exporterName());
                assertThat(i.expName()).isEqualTo(kernelExpName());
                assertThat(i.kind()).isEqualTo(kind() == BufferKind.MEMFD ? "memfd" : "dma-buf");
                assertThat(i.name()).isEqualTo("info");
                assertThat(i.cpuMapped()).isTrue();
                assertThat(i.owner()).isEqualTo("test");
            });
        }
    }

    /** The kernel's exp_name of this exporter's buffers: fdinfo's for a dma-buf, {@code memfd} for a memfd. */
    String kernelExpName() {
        return kind() == BufferKind.MEMFD ? "memfd" : exporterName();
    }

    /** The size the kernel reports for the fd: fdinfo's {@code size:} for a dma-buf, statx's for a memfd. */
    long kernelSize(int fd) {
        return kind() == BufferKind.MEMFD ? Sys.fstat(fd).size() : fdinfo(fd).size();
    }

    @ParameterizedTest(name = "{0} bytes requested")
    @ValueSource(longs = {1, 10000, 115200})
    void statxGivesTheSizeThatLseekAndFdinfoGive(long requested) {
        // the registry measures a buffer with one statx: a dma-buf's inode carries the buffer's size
        try (DmaBuf buf = registry.allocate(BufferRequest.ofSize(requested))) {
            int fd = buf.fd();
            long statx = Sys.fstat(fd).size();
            assertThat(statx).as("statx's size").isEqualTo(LibC.lseek64(fd, 0, LibC.SEEK_END))
                    .isEqualTo(kernelSize(fd)).isEqualTo(buf.size()).isGreaterThanOrEqualTo(requested);
            assertThat(LibC.lseek64(fd, 0, LibC.SEEK_SET)).isZero();
        }
    }

    @ParameterizedTest(name = "{0} bytes requested")
    @ValueSource(longs = {1, 10000, 115200, 4096 * 3 + 1})
    void theSizeIsTheKernelsAndBoundsEveryView(long requested) {
        try (DmaBuf buf = registry.allocate(BufferRequest.ofSize(requested).name("sized"))) {
            long kernel = kernelSize(buf.fd());
            assertThat(kernel).as("the kernel's size").isGreaterThanOrEqualTo(requested);
            assertThat(buf.size()).as("DmaBuf.size() is the kernel's").isEqualTo(kernel);
            assertThat(buf.requestedSize()).isEqualTo(requested);
            assertThat(registry.bufinfo()).singleElement().satisfies(i -> {
                assertThat(i.size()).isEqualTo(kernel);
                assertThat(i.requestedSize()).isEqualTo(requested);
            });
            assertThat(buf.mmap().size()).as("the CPU view").isEqualTo(kernel);
            try (CpuAccess a = buf.beginCpuAccess(SyncDirection.READ_WRITE)) {
                a.putByte(kernel - 1, (byte) 7);
                assertThat(a.getByte(kernel - 1)).isEqualTo((byte) 7);
                assertThatThrownBy(() -> a.getByte(kernel)).as("a read at the kernel's size")
                        .isInstanceOf(IndexOutOfBoundsException.class).hasMessageContaining("getByte")
                        .hasMessageContaining("of " + kernel + " bytes");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = PixelFormat.class, names = {"NV12", "YUV420", "YUYV", "XBGR32"})
    void aFrameLaidOutForADevicesAlignmentHasItsPaddedPlanesWhereTheLayoutSaysInTheKernelsBuffer(PixelFormat pf) {
        Device scanout = Device.of("scanout", DeviceConstraints.builder().strideAlignment(256)
                .offsetAlignment(4096).build());
        try (DmaBuf buf = registry.create(BufferRequest.ofFormat(pf, 100, 50).name("padded"));
                Attachment a = buf.attach(scanout)) {
            long kernel = kernelSize(buf.fd());
            BufferFormat f = buf.format().orElseThrow();
            assertThat(f.pixelFormat()).contains(pf);
            assertThat(f.buffers()).isOne();
            for (int p = 0; p < pf.planes(); p++) {
                Plane plane = f.planes().get(p);
                assertThat(plane.stride() % 256).as("plane %d stride %d", p, plane.stride()).isZero();
                assertThat(plane.stride()).as("a padded line").isGreaterThan((int) pf.lineBytes(p, 100));
                assertThat(plane.offset() % 4096).as("plane %d offset", p).isZero();
            }
            assertThat(kernel).as("the kernel's buffer holds the layout").isGreaterThanOrEqualTo(f.bufferSize(0))
                    .isEqualTo(buf.size());
            assertThat(registry.bufinfo()).singleElement().satisfies(i -> assertThat(i.format()).contains(f));
            // every line of every plane, its padding marked, written through the registry's CPU access ...
            try (CpuAccess w = buf.beginCpuAccess(SyncDirection.WRITE)) {
                for (int p = 0; p < pf.planes(); p++) {
                    Plane plane = f.planes().get(p);
                    int line = (int) pf.lineBytes(p, 100);
                    byte[] row = new byte[plane.stride()];
                    for (int y = 0; y < pf.lines(p, 50); y++) {
                        java.util.Arrays.fill(row, 0, line, (byte) (p * 64 + y));
                        java.util.Arrays.fill(row, line, row.length, (byte) 0xee);
                        w.write(plane.offset() + (long) y * plane.stride(), row, 0, row.length);
                    }
                }
            }
            // ... is where the layout says in an independent mapping of the fd
            try (Mapping m = Mapping.map(buf.fd(), buf.size(), "independent")) {
                for (int p = 0; p < pf.planes(); p++) {
                    Plane plane = f.planes().get(p);
                    int line = (int) pf.lineBytes(p, 100);
                    for (int y = 0; y < pf.lines(p, 50); y++) {
                        long at = plane.offset() + (long) y * plane.stride();
                        assertThat(m.pointer().getByte(at)).isEqualTo((byte) (p * 64 + y));
                        assertThat(m.pointer().getByte(at + line - 1)).isEqualTo((byte) (p * 64 + y));
                        assertThat(m.pointer().getByte(at + line)).isEqualTo((byte) 0xee);
                    }
                }
            }
        }
    }

    @Test
    void aFrameWithABufferPerPlaneIsMadeOfDistinctKernelBuffersReleasedTogether() {
        try (FrameBuffer frame = registry.allocateFrame(BufferRequest.ofFormat(PixelFormat.NV12M, 640, 480)
                .name("nv12m"))) {
            assertThat(frame.format().describe()).isEqualTo("NV12 640x480 LINEAR [0:0+307200/640 1:0+153600/640]");
            assertThat(frame.buffers()).hasSize(2);
            for (int i = 0; i < 2; i++) {
                DmaBuf b = frame.buffer(i);
                assertThat(kernelSize(b.fd())).isGreaterThanOrEqualTo(frame.format().bufferSize(i))
                        .isEqualTo(b.size());
                assertThat(b.exporterName()).contains(kernelExpName());
                assertThat(b.name()).isEqualTo("nv12m");
            }
            assertThat(frame.buffer(0).id()).isNotEqualTo(frame.buffer(1).id());
            assertThat(registry.bufinfo()).hasSize(2);
        }
        assertThat(registry.bufinfo()).as("closing the frame released both buffers").isEmpty();
    }

    /**
     * A pool of NV12M frames: every buffer allocated up front from this exporter, recycled with no new buffer fd,
     * and a frame whose chroma buffer someone still holds is not handed out until that reference is put.
     */
    @Test
    void aPoolRecyclesItsFramesWithoutAllocatingAndKeepsAHeldFrameOut() {
        try (BufferPool pool = registry.createPool(BufferRequest.ofFormat(PixelFormat.NV12M, 320, 240)
                .name("pool"), 3)) {
            assertThat(pool.allocations()).isEqualTo(6);
            assertThat(pool.format().buffers()).isEqualTo(2);
            assertThat(registry.bufinfo()).hasSize(6).allSatisfy(i -> {
                assertThat(i.exporter()).isEqualTo(exporterName());
                assertThat(i.name()).startsWith("pool-");
            });
            long fds = bufferFds();
            BufferId keptId;
            try (FrameBuffer first = pool.acquire(Duration.ZERO); DmaBuf kept = first.buffer(1).get()) {
                keptId = kept.id();
                first.close();
                assertThat(pool.available()).isEqualTo(2);
                for (int n = 0; n < 100; n++) {
                    try (FrameBuffer f = pool.acquire(Duration.ZERO)) {
                        assertThat(f).as("cycle %d", n).isNotNull();
                        assertThat(f.buffer(1).id()).as("cycle %d: not the held frame", n).isNotEqualTo(keptId);
                        try (CpuAccess w = f.buffer(0).beginCpuAccess(SyncDirection.WRITE)) {
                            w.putLong(0, n);
                        }
                    }
                }
                assertThat(bufferFds()).as("no buffer fd opened by 100 cycles").isEqualTo(fds);
            }
            assertThat(pool.available()).as("the held frame is back once put").isEqualTo(3);
            assertThat(pool.allocations()).isEqualTo(6);
            assertThat(registry.bufinfo()).hasSize(6);
        }
        assertThat(registry.bufinfo()).as("closing the pool released every buffer").isEmpty();
    }

    @Test
    void aNameWithAControlCharacterIsRefusedAndNothingChanges() {
        try (DmaBuf buf = registry.allocate(BufferRequest.ofSize(4096).name("clean"))) {
            assertThatThrownBy(() -> buf.setName("x\nexp_name:\tudmabuf"))
                    .isInstanceOf(org.dmabuf.api.InvalidArgumentException.class)
                    .hasMessageContaining("setName").hasMessageContaining("U+000A");
            assertThat(buf.name()).isEqualTo("clean");
            if (kind() == BufferKind.DMA_BUF) {
                assertThat(fdinfo(buf.fd()).name()).isEqualTo("clean");
            }
        }
        assertThatThrownBy(() -> BufferRequest.ofSize(4096).name("a\u0000b"))
                .isInstanceOf(org.dmabuf.api.InvalidArgumentException.class).hasMessageContaining("U+0000");
    }

    /** fds of dma-bufs and memfds this process holds. */
    static long bufferFds() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.map(CommonExporterTests::link).filter(t -> t.startsWith("/dmabuf:")
                    || t.startsWith("anon_inode:dmabuf") || t.startsWith("/memfd:")).count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Mappings of dma-bufs and memfds in this process. */
    static long bufferMappings() {
        try (Stream<String> s = Files.lines(Path.of("/proc/self/maps"))) {
            return s.filter(l -> l.contains("/dmabuf:") || l.contains("anon_inode:dmabuf") || l.contains("/memfd:"))
                    .count();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static String link(Path p) {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (IOException e) {
            return "";
        }
    }

    static FdInfo fdinfo(int fd) {
        return FdInfo.read(fd);
    }

    static int rw() {
        return LibC.O_RDWR | LibC.O_CLOEXEC;
    }
}

package org.dmabuf.exporter.drm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.Plane;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.linux.TestSupport;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.Mapping;
import org.dmabuf.linux.Sys;
import org.dmabuf.linux.UdmabufUapi;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** vgem, in the kernel guest: export, both mmap paths, import of heap and udmabuf buffers, errors. */
@Tag("kernel")
class DrmKernelTest {
    private static final String CARD = "/dev/dri/card0";
    private DrmDevice device;
    private long fdsBefore;

    @BeforeEach
    void open() {
        fdsBefore = openFds();
        device = new DrmDevice(CARD);
    }

    @AfterEach
    void nothingLeft() {
        device.close();
        assertThat(openFds()).as("fds left open").isEqualTo(fdsBefore);
        assertThat(mappings()).as("buffer mappings left").isZero();
    }

    @Test
    void theNodeIsVgemWithDumbBuffersAndPrime() {
        assertThat(device.driver()).isEqualTo("vgem");
        device.requireExportAndImport();
        DrmExporter e = new DrmExporter(device);
        assertThat(e.properties(150)).containsEntry(DmaBufExporter.NAME, "drm:vgem:card0")
                .containsEntry(DmaBufExporter.EXP_NAME, "drm").containsEntry(DmaBufExporter.DEV_PATH, CARD);
    }

    @Test
    void aDumbBufferMapsThroughTheDmaBufAndThroughMapDumbToTheSameMemory() {
        DrmExporter exporter = new DrmExporter(device);
        DrmBuffer b = (DrmBuffer) exporter.allocate(new AllocationRequest(1 << 20, "dumb", null,
                DeviceConstraints.NONE));
        try {
            assertThat(b.pitch()).isEqualTo(4096);
            assertThat(FdInfo.read(b.fd()).expName()).isEqualTo("drm");
            try (Mapping viaDmaBuf = (Mapping) b.mmap(); Mapping viaDumb = device.mapDumb(b.handle(), b.size())) {
                assertThat(mapsOf("/dmabuf:")).as("the dma-buf path maps the dma-buf").isEqualTo(1);
                assertThat(mapsOf(CARD)).as("MAP_DUMB maps the DRM node").isEqualTo(1);
                for (long off = 0; off < b.size(); off += 4096) {
                    viaDmaBuf.pointer().setLong(off, off + 1);
                }
                for (long off = 0; off < b.size(); off += 4096) {
                    assertThat(viaDumb.pointer().getLong(off)).isEqualTo(off + 1);
                }
            }
        } finally {
            b.release();
        }
    }

    @Test
    void theRegistryUsesEitherMmapPathWithCpuAccess() {
        for (boolean dumbPath : new boolean[] {false, true}) {
            DrmExporter exporter = new DrmExporter(device);
            exporter.forceMapDumb = dumbPath;
            try (StandaloneRegistry r = new StandaloneRegistry("test").addExporter(exporter,
                    exporter.properties(150));
                 DmaBuf buf = r.allocate(BufferRequest.ofSize(65536).name("drm-" + dumbPath))) {
                try (CpuAccess w = buf.beginCpuAccess(SyncDirection.WRITE)) {
                    w.fill(0, buf.size(), (byte) 0x3c);
                }
                assertThat(mapsOf(dumbPath ? CARD : "/dmabuf:")).isEqualTo(1);
                try (CpuAccess rd = buf.beginCpuAccess(SyncDirection.READ)) {
                    assertThat(rd.getByte(65535)).isEqualTo((byte) 0x3c);
                }
                assertThat(buf.exporterService()).contains("drm:vgem:card0");
                assertThat(buf.exporterName()).contains("drm");
            }
        }
    }

    @Test
    void heapAndUdmabufBuffersImportIntoVgem() throws IOException {
        DrmImporter vgem = new DrmImporter(device);
        try (StandaloneRegistry r = new StandaloneRegistry("test")
                .addExporter(new TestSupport.RawSystemHeap(), TestSupport.RawSystemHeap.properties(300))
                .addExporter(new RawUdmabuf(), props("udmabuf", 200))) {
            for (String exporter : List.of("system", "udmabuf")) {
                try (DmaBuf buf = r.allocate(BufferRequest.ofSize(1 << 20).exporter(exporter).name("imp-" + exporter))) {
                    Attachment a = buf.attach(vgem);
                    assertThat(a.imported(IntSupplier.class).getAsInt()).isPositive();
                    assertThat(attachedDevices(buf.inode())).as("debugfs bufinfo of " + exporter).contains("vgem");
                    a.close();
                    assertThat(attachedDevices(buf.inode())).doesNotContain("vgem");
                }
            }
        }
    }

    @Test
    void importTwiceDetachTwiceClosesTheGemHandleExactlyOnce() {
        DrmImporter vgem = new DrmImporter(device);
        try (StandaloneRegistry r = new StandaloneRegistry("test").addExporter(new TestSupport.RawSystemHeap(), TestSupport.RawSystemHeap.properties(1));
             DmaBuf buf = r.allocate(BufferRequest.ofSize(65536))) {
            Attachment first = buf.attach(vgem);
            Attachment second = buf.attach(vgem);
            int handle = first.imported(IntSupplier.class).getAsInt();
            assertThat(second.imported(IntSupplier.class).getAsInt()).as("the kernel's handle is the same")
                    .isEqualTo(handle);
            assertThat(device.references(handle)).isEqualTo(2);
            first.close();
            assertThat(device.gemCloses).hasValue(0);
            second.close();
            assertThat(device.gemCloses).hasValue(1);
            assertThatThrownBy(() -> device.gemClose(handle)).as("the handle is gone: closed exactly once")
                    .isInstanceOf(LinuxException.class).hasMessageContaining("DRM_IOCTL_GEM_CLOSE): EINVAL");
        }
    }

    /**
     * The importer of the node that exported a buffer gets the exporter's own GEM handle back from
     * {@code PRIME_FD_TO_HANDLE}; the handle must survive until both have let go, in either order, and never close
     * a handle that a later buffer took.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "detach before release: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void aBufferImportedIntoTheNodeThatExportedItKeepsOneHandleUntilBothLetGo(boolean detachFirst) throws Exception {
        DrmExporter exporter = new DrmExporter(device);
        DrmImporter sameNode = new DrmImporter(device);
        DrmBuffer a = (DrmBuffer) exporter.allocate(new AllocationRequest(65536, "A", null, DeviceConstraints.NONE));
        int handleA = a.handle();
        AutoCloseable imported = sameNode.importBuffer(null, a.fd());
        assertThat(((IntSupplier) imported).getAsInt()).as("PRIME_FD_TO_HANDLE on the exporting node gives back "
                + "the exporter's own handle").isEqualTo(handleA);
        DrmBuffer b;
        if (detachFirst) {
            imported.close();
            a.release();
            assertGone(handleA);
            b = (DrmBuffer) exporter.allocate(new AllocationRequest(65536, "B", null, DeviceConstraints.NONE));
        } else {
            a.release();
            assertThat(mapDumbOffset(handleA)).as("the import still holds the handle").isPositive();
            b = (DrmBuffer) exporter.allocate(new AllocationRequest(65536, "B", null, DeviceConstraints.NONE));
            imported.close();
        }
        try {
            try (Mapping viaDumb = device.mapDumb(b.handle(), b.size()); Mapping viaDmaBuf = (Mapping) b.mmap()) {
                for (long off = 0; off < b.size(); off += 4096) {
                    viaDumb.pointer().setLong(off, ~off);
                }
                for (long off = 0; off < b.size(); off += 4096) {
                    assertThat(viaDmaBuf.pointer().getLong(off)).isEqualTo(~off);
                }
            }
            if (!detachFirst) {
                assertGone(handleA);
            }
        } finally {
            b.release();
        }
        assertGone(b.handle());
    }

    private void assertGone(int handle) {
        assertThatThrownBy(() -> device.gemClose(handle)).as("no GEM handle " + handle + " is left")
                .isInstanceOf(LinuxException.class).hasMessageContaining("DRM_IOCTL_GEM_CLOSE): EINVAL");
        assertThat(device.references(handle)).isZero();
    }

    /** {@code DRM_IOCTL_MODE_MAP_DUMB} alone: succeeds while the handle is open, {@code ENOENT} once it is not. */
    private long mapDumbOffset(int handle) {
        DrmUapi.MapDumb m = new DrmUapi.MapDumb();
        m.handle = handle;
        DrmUapi.ioctl(device.fd(), DrmUapi.MODE_MAP_DUMB, "DRM_IOCTL_MODE_MAP_DUMB", CARD, m, null);
        return m.offset;
    }

    @Test
    void openingThePrimaryNodeLeavesDrmMasterToOthers() {
        assertThat(device.primary()).isTrue();
        assertThat(authMagicZero(device.fd())).as("AUTH_MAGIC(0) as libdrm's drmIsMaster asks it: EACCES for a "
                + "file that is not master").isEqualTo("EACCES");
        try (Fd other = Sys.open(CARD, LibC.O_RDWR)) {
            DrmUapi.ioctl(other.get(), DrmUapi.SET_MASTER, "DRM_IOCTL_SET_MASTER", CARD);
            assertThat(authMagicZero(other.get())).as("EINVAL for the master").isEqualTo("EINVAL");
        }
    }

    @Test
    void importsGoThroughTheRenderNodeOfTheDevice() {
        assertThat(device.renderNode()).contains("/dev/dri/renderD128");
        DrmDevice render = DrmDevice.openImportNode(device);
        try {
            assertThat(render.path()).isEqualTo("/dev/dri/renderD128");
            assertThat(render.primary()).isFalse();
            assertThat(render.driver()).isEqualTo("vgem");
            DrmExporter exporter = new DrmExporter(device);
            DrmImporter importer = new DrmImporter(render);
            DrmBuffer a = (DrmBuffer) exporter.allocate(new AllocationRequest(8192, "A", null,
                    DeviceConstraints.NONE));
            try (AutoCloseable imported = importer.importBuffer(null, a.fd())) {
                assertThat(((IntSupplier) imported).getAsInt()).isPositive();
                assertThat(device.references(a.handle())).as("the render node's handles are its own").isEqualTo(1);
            } catch (Exception e) {
                throw new AssertionError(e);
            } finally {
                a.release();
            }
        } finally {
            render.close();
        }
    }

    @Test
    void theImporterCarriesTheKernelsNameOfTheDevice() throws IOException {
        DrmDevice render = DrmDevice.openImportNode(device);
        try (StandaloneRegistry r = new StandaloneRegistry("test").addExporter(new TestSupport.RawSystemHeap(),
                TestSupport.RawSystemHeap.properties(1));
             DmaBuf buf = r.allocate(BufferRequest.ofSize(65536).name("kernel-name"))) {
            for (DrmImporter importer : List.of(new DrmImporter(device), new DrmImporter(render))) {
                assertThat(importer.kernelName()).contains("vgem");
                try (Attachment a = buf.attach(importer)) {
                    assertThat(attachedDevices(buf.inode())).as("debugfs bufinfo while the import is live")
                            .containsExactly(importer.kernelName().orElseThrow());
                    assertThat(r.bufinfo()).singleElement().satisfies(i -> assertThat(i.kernelDevices())
                            .containsExactly(importer.kernelName().orElseThrow()));
                }
                assertThat(attachedDevices(buf.inode())).isEmpty();
            }
        } finally {
            render.close();
        }
    }

    /** A request that is not a page multiple: every size the project reports is the kernel's. */
    @Test
    void aDumbBufferReportsTheKernelsSizeAndMapDumbCoversIt() throws IOException {
        DrmExporter exporter = new DrmExporter(device);
        BufferFormat small = new BufferFormat(BufferFormat.fourcc("XR24"), 100, 10, List.of(new Plane(0, 4000,
                400)));
        for (AllocationRequest request : List.of(new AllocationRequest(10000, "bytes", null, DeviceConstraints.NONE),
                new AllocationRequest(4000, "image", small, DeviceConstraints.NONE))) {
            DrmBuffer b = (DrmBuffer) exporter.allocate(request);
            try {
                long fdinfo = FdInfo.read(b.fd()).size();
                assertThat(fdinfo % 4096).as("the kernel rounds to pages").isZero();
                assertThat(b.size()).as("ExportedBuffer.size() of " + request.name()).isEqualTo(fdinfo)
                        .isEqualTo(TestSupport.bufinfoSize(Sys.fstat(b.fd()).inode())).isGreaterThan(request.size());
                try (Mapping viaDumb = device.mapDumb(b.handle(), b.size()); Mapping viaDmaBuf = (Mapping) b.mmap()) {
                    viaDumb.pointer().setByte(b.size() - 1, (byte) 0x5a);
                    assertThat(viaDmaBuf.pointer().getByte(b.size() - 1)).isEqualTo((byte) 0x5a);
                }
            } finally {
                b.release();
            }
        }
        try (StandaloneRegistry r = new StandaloneRegistry("test").addExporter(exporter, exporter.properties(1));
             DmaBuf buf = r.allocate(BufferRequest.ofSize(10000).name("odd-size"))) {
            assertThat(buf.requestedSize()).isEqualTo(10000);
            assertThat(buf.size()).isEqualTo(FdInfo.read(buf.fd()).size()).isEqualTo(TestSupport.bufinfoSize(buf.inode()))
                    .isEqualTo(12288);
            try (CpuAccess w = buf.beginCpuAccess(SyncDirection.WRITE)) {
                w.fill(0, buf.size(), (byte) 7);
            }
        }
    }

    @Test
    void badNodesAndAbsurdSizesAreClearErrors() {
        assertThatThrownBy(() -> new DrmDevice("/dev/dri/card9")).isInstanceOf(LinuxException.class)
                .hasMessage("open: ENOENT: /dev/dri/card9: No such file or directory");
        assertThatThrownBy(() -> new DrmDevice("/dev/udmabuf")).isInstanceOf(LinuxException.class)
                .hasMessageContaining("ioctl(DRM_IOCTL_VERSION): ENOTTY: /dev/udmabuf");
        assertThatThrownBy(() -> device.createDumb(0, 0, 32)).isInstanceOf(LinuxException.class)
                .hasMessageContaining("DRM_IOCTL_MODE_CREATE_DUMB): EINVAL").hasMessageContaining("0x0x32");
        assertThatThrownBy(() -> device.createDumb(1 << 20, 1 << 20, 32)).isInstanceOf(LinuxException.class)
                .hasMessageContaining("DRM_IOCTL_MODE_CREATE_DUMB");
        DrmExporter exporter = new DrmExporter(device);
        try (StandaloneRegistry r = new StandaloneRegistry("test").addExporter(exporter, exporter.properties(1))) {
            assertThatThrownBy(() -> r.allocate(BufferRequest.ofSize(1L << 44))).hasMessageContaining("allocate");
            assertThat(r.bufinfo()).isEmpty();
        }
    }

    // ---- helpers: udmabuf through the raw ioctl (the heap exporter's classes are its bundle's own) ----

    static Map<String, Object> props(String name, int ranking) {
        Map<String, Object> p = new HashMap<>();
        p.put(DmaBufExporter.NAME, name);
        p.put(DmaBufExporter.EXP_NAME, name);
        p.put("service.ranking", ranking);
        return p;
    }

    static final class RawUdmabuf implements DmaBufExporter {
        @Override
        public ExportedBuffer allocate(AllocationRequest request) {
            try (Fd dev = Sys.open("/dev/udmabuf", LibC.O_RDWR);
                 Fd memfd = Sys.memfd("udmabuf-test", LibC.MFD_ALLOW_SEALING)) {
                Sys.ftruncate(memfd.get(), request.size());
                Sys.fcntl(memfd.get(), LibC.F_ADD_SEALS, "F_ADD_SEALS", LibC.F_SEAL_SHRINK);
                UdmabufUapi.Create c = new UdmabufUapi.Create();
                c.memfd = memfd.get();
                c.flags = UdmabufUapi.UDMABUF_FLAGS_CLOEXEC;
                c.size = request.size();
                int fd = Sys.ioctl(dev.get(), UdmabufUapi.CREATE, "UDMABUF_CREATE", "/dev/udmabuf", c);
                return new FdBuffer(new Fd(fd, "udmabuf"), request.size(), BufferKind.DMA_BUF);
            }
        }
    }

    /** {@code DRM_IOCTL_AUTH_MAGIC} with magic 0, as libdrm's {@code drmIsMaster}: the errno's name. */
    private static String authMagicZero(int fd) {
        DrmUapi.Auth auth = new DrmUapi.Auth();
        try {
            DrmUapi.ioctl(fd, DrmUapi.AUTH_MAGIC, "DRM_IOCTL_AUTH_MAGIC", CARD, auth, null);
            return "success";
        } catch (LinuxException e) {
            return org.dmabuf.linux.Errno.name(e.errnoValue());
        }
    }

    private static long openFds() {
        return TestSupport.bufferFds();
    }

    private static long mapsOf(String what) {
        return TestSupport.mappings(what);
    }

    private static List<String> attachedDevices(long inode) throws IOException {
        return TestSupport.attachedDevices(inode);
    }

    private static long mappings() {
        return mapsOf("/dmabuf:") + mapsOf(CARD) + mapsOf("memfd:udmabuf");
    }
}

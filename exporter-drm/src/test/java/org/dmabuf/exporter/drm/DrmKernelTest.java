package org.dmabuf.exporter.drm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.DmaBuf;
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
                assertThat(buf.exporterName()).contains("drm:vgem:card0");
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
            assertThat(device.importCount(handle)).isEqualTo(2);
            first.close();
            assertThat(device.gemCloses).hasValue(0);
            second.close();
            assertThat(device.gemCloses).hasValue(1);
            assertThatThrownBy(() -> device.gemClose(handle)).as("the handle is gone: closed exactly once")
                    .isInstanceOf(LinuxException.class).hasMessageContaining("DRM_IOCTL_GEM_CLOSE): EINVAL");
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

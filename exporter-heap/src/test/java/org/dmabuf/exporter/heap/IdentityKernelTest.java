package org.dmabuf.exporter.heap;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.linux.DmaBufUapi;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.linux.InodeCollision;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Sys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A buffer's identity is its file's ({@code st_dev}, {@code st_ino}), in the kernel guest: dma-bufs (system heap,
 * udmabuf) take inode numbers from {@code get_next_ino()}, memfds from the internal shm mount's own counter, so
 * the same number is handed to both. The test makes that happen and checks that the two buffers stay apart in
 * {@code get(fd)} and {@code bufinfo}. Also: fdinfo names set by a peer cannot forge other fdinfo keys.
 */
@Tag("kernel")
class IdentityKernelTest {
    private DmaHeapExporter heap;
    private UdmabufExporter udmabuf;
    private StandaloneRegistry registry;
    private long fdsBefore;

    @BeforeEach
    void open() {
        fdsBefore = CommonExporterTests.bufferFds();
        heap = new DmaHeapExporter("/dev/dma_heap/system");
        udmabuf = new UdmabufExporter("/dev/udmabuf");
        registry = new StandaloneRegistry("identity").addExporter(heap, heap.properties(300))
                .addExporter(udmabuf, udmabuf.properties(200))
                .addExporter(new MemfdExporter(), MemfdExporter.properties(100));
    }

    @AfterEach
    void close() {
        registry.close();
        heap.close();
        udmabuf.close();
        assertThat(CommonExporterTests.bufferFds()).as("buffer fds left open").isEqualTo(fdsBefore);
    }

    /**
     * Allocates until a dma-buf of {@code exporter} and a memfd buffer with the same inode number are both alive
     * ({@link InodeCollision}), then turns a duplicate of each fd back into a buffer.
     */
    @ParameterizedTest(name = "{0} among memfds")
    @ValueSource(strings = {"system", "udmabuf"})
    void aDmaBufAndAMemfdWithTheSameInodeNumberStayApart(String exporter) {
        DmaBuf[] both = InodeCollision.make(
                new InodeCollision.Side(() -> allocate("memfd", "memfd-side", 0x11), InodeCollision::advanceMemfd),
                new InodeCollision.Side(() -> allocate(exporter, "dmabuf-side", 0x22), InodeCollision::advanceDmaBuf));
        DmaBuf memfd = both[0];
        DmaBuf dmabuf = both[1];
        try {
            long inode = memfd.inode();
            assertThat(dmabuf.inode()).isEqualTo(inode);
            assertThat(dmabuf.id()).as("same inode number, other filesystem").isNotEqualTo(memfd.id());
            assertThat(dmabuf.id().dev()).isNotEqualTo(memfd.id().dev());

            try (Fd d = Sys.dup(dmabuf.fd(), "dma-buf"); DmaBuf got = registry.get(d.get())) {
                assertThat(got.id()).isEqualTo(dmabuf.id()).isEqualTo(Sys.fstat(d.get()).id());
                assertThat(got.kind()).contains(BufferKind.DMA_BUF);
                assertThat(got.exporterName()).contains(exporter);
                assertThat(dmabuf.refCount()).as("the dma-buf's object, not the memfd's").isEqualTo(2);
                assertThat(memfd.refCount()).isEqualTo(1);
                assertThat(read(got)).as("the dma-buf's bytes").isEqualTo(0x22);
            }
            try (Fd m = Sys.dup(memfd.fd(), "memfd"); DmaBuf got = registry.get(m.get())) {
                assertThat(got.id()).isEqualTo(memfd.id());
                assertThat(got.kind()).contains(BufferKind.MEMFD);
                assertThat(got.exporterName()).contains("memfd");
                assertThat(read(got)).as("the memfd's bytes").isEqualTo(0x11);
            }
            List<BufferInfo> listed = registry.bufinfo().stream().filter(i -> i.inode() == inode).toList();
            assertThat(listed).as("bufinfo lists both").hasSize(2)
                    .extracting(BufferInfo::kind).containsExactlyInAnyOrder("memfd", "dma-buf");
            assertThat(listed).extracting(BufferInfo::id).containsExactlyInAnyOrder(memfd.id(), dmabuf.id());
        } finally {
            memfd.close();
            dmabuf.close();
        }
    }

    private DmaBuf allocate(String exporter, String name, int fill) {
        DmaBuf b = registry.allocate(BufferRequest.ofSize(4096).name(name).exporter(exporter));
        try (CpuAccess w = b.beginCpuAccess(SyncDirection.WRITE)) {
            w.fill(0, b.size(), (byte) fill);
        }
        return b;
    }

    private static int read(DmaBuf b) {
        try (CpuAccess r = b.beginCpuAccess(SyncDirection.READ)) {
            return r.getByte(100) & 0xff;
        }
    }

    @Test
    void aNameSetByAPeerCannotForgeFdinfoKeys() {
        try (Fd raw = heap.allocateFd(8192, LibC.O_RDWR | LibC.O_CLOEXEC, 0)) {
            // a peer names its buffer with newlines: the Linux layer passes it through as the kernel accepts it
            DmaBufUapi.setName(raw.get(), "x\nexp_name:\tudmabuf");
            FdInfo info = FdInfo.read(raw.get());
            assertThat(info.expName()).isEqualTo("system");
            assertThat(info.name()).isEqualTo("x\nexp_name:\tudmabuf");
            try (DmaBuf got = registry.get(raw.get())) {
                assertThat(got.exporterName()).as("not adopted by udmabuf").contains("system");
                assertThat(got.exporterService()).contains("system");
                assertThat(got.name()).isEqualTo("x\nexp_name:\tudmabuf");
                assertThat(got.size()).isEqualTo(8192);
            }
            DmaBufUapi.setName(raw.get(), "\nsize:\tz\nino:\t1");
            try (DmaBuf got = registry.get(raw.get())) {
                assertThat(got.size()).as("the kernel's size, not the name's").isEqualTo(8192);
                assertThat(got.inode()).isEqualTo(Sys.fstat(raw.get()).inode());
                assertThat(registry.bufinfo()).singleElement()
                        .satisfies(i -> assertThat(i.name()).isEqualTo("\nsize:\tz\nino:\t1"));
            }
        }
    }

    @Test
    void theProjectRefusesControlCharactersInNamesItSets() {
        try (DmaBuf b = registry.allocate(BufferRequest.ofSize(4096).name("ok").exporter("system"))) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> b.setName("a\nb"))
                    .isInstanceOf(org.dmabuf.api.InvalidArgumentException.class).hasMessageContaining("U+000A");
            assertThat(FdInfo.read(b.fd()).name()).isEqualTo("ok");
        }
    }
}

package org.dmabuf.exporter.heap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.Sys;
import org.dmabuf.linux.UdmabufUapi;
import org.dmabuf.spi.DmaBufExporter;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** udmabuf, in the kernel guest. */
@Tag("kernel")
class UdmabufKernelTest extends CommonExporterTests {
    private final UdmabufExporter udmabuf = new UdmabufExporter("/dev/udmabuf");

    @Override
    DmaBufExporter exporter() {
        return udmabuf;
    }

    @Override
    Map<String, Object> properties() {
        return udmabuf.properties(200);
    }

    @Override
    BufferKind kind() {
        return BufferKind.DMA_BUF;
    }

    @Override
    String exporterName() {
        return "udmabuf";
    }

    @Test
    void fdinfoSaysUdmabuf() {
        try (DmaBuf buf = registry.allocate(BufferRequest.ofSize(65536).name("u"))) {
            assertThat(fdinfo(buf.fd()).expName()).isEqualTo("udmabuf");
            assertThat(fdinfo(buf.fd()).name()).isEqualTo("u");
        }
    }

    @Test
    void anFdThatIsNotAMemfdIsRefusedAsTheKernelSelftestExpects() {
        try (Fd notMemfd = Sys.open("/proc/self/stat", LibC.O_RDONLY)) {
            assertThatThrownBy(() -> udmabuf.create(notMemfd.get(), 0, 4096, UdmabufUapi.UDMABUF_FLAGS_CLOEXEC))
                    .isInstanceOf(LinuxException.class).hasMessageContaining("ioctl(UDMABUF_CREATE): EBADFD");
        }
    }

    @Test
    void aMemfdNotSealedAgainstShrinkIsRefused() {
        try (Fd memfd = Sys.memfd("unsealed", LibC.MFD_ALLOW_SEALING)) {
            Sys.ftruncate(memfd.get(), 4096);
            assertThatThrownBy(() -> udmabuf.create(memfd.get(), 0, 4096, UdmabufUapi.UDMABUF_FLAGS_CLOEXEC))
                    .isInstanceOf(LinuxException.class)
                    .hasMessageContaining("ioctl(UDMABUF_CREATE): EINVAL").hasMessageContaining("/dev/udmabuf");
        }
    }

    @Test
    void unalignedOffsetOrSizeIsRefusedAsTheKernelSelftestExpects() {
        try (Fd memfd = MemfdExporter.sealedMemfd("sealed", 8192, LibC.F_SEAL_SHRINK)) {
            assertThatThrownBy(() -> udmabuf.create(memfd.get(), 0, 4097, UdmabufUapi.UDMABUF_FLAGS_CLOEXEC))
                    .isInstanceOf(LinuxException.class).hasMessageContaining("EINVAL");
            assertThatThrownBy(() -> udmabuf.create(memfd.get(), 100, 4096, UdmabufUapi.UDMABUF_FLAGS_CLOEXEC))
                    .isInstanceOf(LinuxException.class).hasMessageContaining("EINVAL");
            try (Fd ok = udmabuf.create(memfd.get(), 0, 8192, UdmabufUapi.UDMABUF_FLAGS_CLOEXEC)) {
                assertThat(fdinfo(ok.get()).size()).isEqualTo(8192);
            }
        }
    }
}

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
import org.dmabuf.spi.DmaBufExporter;
import org.junit.jupiter.api.Test;

/** The sealed-memfd exporter, on this host. */
class MemfdExporterTest extends CommonExporterTests {
    private final MemfdExporter exporter = new MemfdExporter();

    @Override
    DmaBufExporter exporter() {
        return exporter;
    }

    @Override
    Map<String, Object> properties() {
        return MemfdExporter.properties(100);
    }

    @Override
    BufferKind kind() {
        return BufferKind.MEMFD;
    }

    @Override
    String exporterName() {
        return "memfd";
    }

    @Test
    void noPeerCanShrinkOrGrowIt() {
        try (DmaBuf buf = registry.allocate(BufferRequest.ofSize(8192))) {
            int seals = Sys.fcntl(buf.fd(), LibC.F_GET_SEALS, "F_GET_SEALS", 0);
            assertThat(seals).isEqualTo(LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW | LibC.F_SEAL_SEAL);
            try (Fd peer = Sys.dup(buf.fd(), "peer")) {
                assertThatThrownBy(() -> Sys.ftruncate(peer.get(), 0)).isInstanceOf(LinuxException.class)
                        .hasMessageContaining("ftruncate: EPERM");
                assertThatThrownBy(() -> Sys.ftruncate(peer.get(), 1 << 20)).isInstanceOf(LinuxException.class)
                        .hasMessageContaining("EPERM");
                assertThatThrownBy(() -> Sys.fcntl(peer.get(), LibC.F_ADD_SEALS, "F_ADD_SEALS", LibC.F_SEAL_WRITE))
                        .isInstanceOf(LinuxException.class).hasMessageContaining("EPERM");
            }
            assertThat(Sys.fstat(buf.fd()).size()).isEqualTo(8192);
        }
    }

    @Test
    void anUnsealedMemfdIsSealedOnAdoption() {
        try (Fd memfd = Sys.memfd("peer-made", LibC.MFD_ALLOW_SEALING)) {
            Sys.ftruncate(memfd.get(), 4096);
            try (DmaBuf adopted = registry.get(memfd.get())) {
                assertThat(adopted.exporterName()).contains("memfd");
                assertThat(Sys.fcntl(memfd.get(), LibC.F_GET_SEALS, "F_GET_SEALS", 0)
                        & (LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW))
                        .isEqualTo(LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW);
            }
        }
    }

    @Test
    void aMemfdThatCanNeverBeSealedIsRefused() {
        try (Fd memfd = Sys.memfd("unsealable", 0)) {
            Sys.ftruncate(memfd.get(), 4096);
            assertThatThrownBy(() -> registry.get(memfd.get())).isInstanceOf(LinuxException.class)
                    .hasMessageContaining("adopt: EPERM").hasMessageContaining("fd " + memfd.get())
                    .hasMessageContaining("truncate it under a reader");
        }
        assertThat(registry.bufinfo()).isEmpty();
    }

    @Test
    void aLongNameIsCutAtTwoHundredCharactersInTheMemfdsPath() throws Exception {
        String longName = "n".repeat(300);
        try (var fd = MemfdExporter.sealedMemfd("dmabuf:", longName, 4096, LibC.F_SEAL_SHRINK)) {
            assertThat(java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/" + fd.get()))
                    .toString()).isEqualTo("/memfd:dmabuf:" + "n".repeat(193) + " (deleted)");
            assertThat(fd.toString()).contains("memfd:dmabuf:nnn");
        }
    }

    @Test
    void theNameShowsInTheMemfdsPath() throws Exception {
        try (DmaBuf buf = registry.allocate(BufferRequest.ofSize(4096).name("thumb"))) {
            assertThat(java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/" + buf.fd()))
                    .toString()).startsWith("/memfd:dmabuf:thumb");
        }
    }
}

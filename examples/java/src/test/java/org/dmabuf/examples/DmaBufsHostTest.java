package org.dmabuf.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.ExporterInfo;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.core.DmaBufs;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plain-Java entry point with the real exporter jars (found with {@link java.util.ServiceLoader}) on a host
 * without dma-heaps or udmabuf: only the sealed memfd, and both absences said; the components' own configuration
 * annotations read from maps and {@code .cfg} files, refusing what the components refuse, with nothing left open.
 */
class DmaBufsHostTest {
    @Test
    void onThisHostOnlyTheMemfdExporterOpensAndTheAbsentOnesAreSaid() {
        assumeFalse(Files.exists(Path.of("/dev/dma_heap")) || Files.exists(Path.of("/dev/udmabuf")),
                "a host with dma-heaps or udmabuf: the guest test covers it");
        try (DmaBufs d = DmaBufs.open()) {
            assertThat(d.exporters()).extracting(ExporterInfo::name).containsExactly("memfd");
            assertThat(d.fallbacks()).containsExactly(
                    "org.dmabuf.exporter.heap: /dev/dma_heap is absent (kernel without CONFIG_DMABUF_HEAPS): no "
                            + "dma-heap exporter",
                    "org.dmabuf.exporter.heap: /dev/udmabuf is absent (kernel without CONFIG_UDMABUF)");
            try (DmaBuf b = d.allocate(BufferRequest.ofSize(10000).name("host"))) {
                assertThat(b.exporterName()).contains("memfd");
                assertThat(b.name()).isEqualTo("host");
            }
        }
    }

    @Test
    void theHeapConfigurationIsTheComponentsAndItsRankingsApply() {
        try (DmaBufs d = DmaBufs.builder().configure("org.dmabuf.exporter.heap", Map.of("dmaheap.enabled", false,
                "udmabuf.enabled", "false", "memfd.ranking", "42")).open()) {
            assertThat(d.exporters()).extracting(e -> e.name() + "@" + e.ranking()).containsExactly("memfd@42");
            assertThat(d.fallbacks()).isEmpty();
        }
        try (DmaBufs d = DmaBufs.builder().configure("org.dmabuf.exporter.heap", Map.of("memfd.enabled", false,
                "dmaheap.dir", "/nonexistent/heaps", "udmabuf.path", "/nonexistent/udmabuf")).open()) {
            assertThat(d.exporters()).isEmpty();
            assertThat(d.fallbacks()).containsExactly("org.dmabuf.exporter.heap: /nonexistent/heaps is absent "
                    + "(kernel without CONFIG_DMABUF_HEAPS): no dma-heap exporter",
                    "org.dmabuf.exporter.heap: /nonexistent/udmabuf is absent (kernel without CONFIG_UDMABUF)");
        }
    }

    @Test
    void aHeapValueThatDoesNotConvertIsRefusedNamingTheProperty() {
        assertThatThrownBy(() -> DmaBufs.builder().configure("org.dmabuf.exporter.heap",
                Map.of("dmaheap.ranking", "high")).open()).isInstanceOf(InvalidArgumentException.class)
                .hasMessageStartingWith("activate: EINVAL: org.dmabuf.exporter.heap: property dmaheap.ranking = "
                        + "'high' is not an integer");
    }

    @Test
    void aDrmOrV4l2ConfigurationWithoutDevPathIsRefused() {
        for (String pid : new String[] {"org.dmabuf.exporter.drm~gpu", "org.dmabuf.exporter.v4l2~camera"}) {
            assertThatThrownBy(() -> DmaBufs.builder().configure(pid, Map.of("service.ranking", 10)).open())
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessage("activate: EINVAL: " + pid + ": property dev.path is required (it has no default) "
                            + "and is absent");
        }
    }

    @Test
    void aV4l2ConfigurationTheComponentRefusesIsRefusedTheSameWayBeforeTheNodeIsOpened() {
        long fds = TestSupport.bufferFds();
        assertThatThrownBy(() -> DmaBufs.builder().configure("org.dmabuf.exporter.v4l2~camera",
                Map.of("dev.path", "/dev/video0", "width", 0)).open())
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("activate: EINVAL: org.dmabuf.exporter.v4l2 /dev/video0: width 0 and height 480 must be "
                        + "at least 1");
        assertThatThrownBy(() -> DmaBufs.builder().configure("org.dmabuf.exporter.v4l2~camera",
                Map.of("dev.path", "/dev/video0", "pixel.format", "YUYV2")).open())
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("pixel.format 'YUYV2' is not a four-character V4L2 fourcc");
        assertThatThrownBy(() -> DmaBufs.builder().configure("org.dmabuf.exporter.v4l2~camera",
                Map.of("dev.path", "/dev/video0", "buffer.count", "four")).open())
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("org.dmabuf.exporter.v4l2~camera: property buffer.count = 'four' is not an "
                        + "integer");
        assertThat(TestSupport.bufferFds()).isEqualTo(fds);
    }

    @Test
    void aNodeThatIsNotDrmFailsNamingItAndLeavesNothingOpen(@TempDir Path conf) throws Exception {
        Files.writeString(conf.resolve("org.dmabuf.exporter.heap.cfg"), "memfd.ranking=5\n");
        Files.writeString(conf.resolve("org.dmabuf.exporter.drm~gpu.cfg"), "dev.path=/dev/null\n");
        long fds = TestSupport.openFds();
        assertThatThrownBy(() -> DmaBufs.builder().configurationFolder(conf).open())
                .isInstanceOf(LinuxException.class).hasMessageContaining("/dev/null");
        assertThat(TestSupport.openFds()).as("%s", TestSupport.openFdTargets()).isEqualTo(fds);
    }

    @Test
    void aFolderOfCfgFilesConfiguresTheHeapExporters(@TempDir Path conf) throws Exception {
        Files.writeString(conf.resolve("org.dmabuf.exporter.heap.cfg"),
                "dmaheap.enabled=false\nudmabuf.enabled=false\nmemfd.ranking=7\n");
        try (DmaBufs d = DmaBufs.builder().configurationFolder(conf).open()) {
            assertThat(d.exporters()).extracting(e -> e.name() + "@" + e.ranking()).containsExactly("memfd@7");
        }
    }

    @Test
    void aMissingFolderIsRefusedNamingIt(@TempDir Path dir) {
        assertThatThrownBy(() -> DmaBufs.builder().configurationFolder(dir.resolve("conf")))
                .isInstanceOf(DmaBufException.class).hasMessageContaining("ENOENT").hasMessageContaining("conf");
    }
}

package org.dmabuf.exporter.heap;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Heaps classified by the kernel's name, in the kernel guest: the real {@code system} heap, and nodes made with mknod
 * in a folder configured as {@code dmaheap.dir}, named as CMA, uncached and vendor heaps are named on boards but all
 * of the system heap's device number (the guest kernel has no CMA), plus a symlink as udev makes them. Each must be
 * what the kernel says it is, {@code system}, with the difference said, and its buffers' fdinfo {@code exp_name:}
 * must be the exporter's {@code EXP_NAME}.
 */
@Tag("kernel")
class HeapNamesKernelTest {
    private static final Path SYSTEM = Path.of("/dev/dma_heap/system");
    /** Node names as boards have them (CMA, uncached, NXP's and Rockchip's vendor names). */
    private static final List<String> NODES = List.of("linux,cma", "reserved", "default_cma_region",
            "system-uncached", "linux,cma-uncached", "cma");

    @TempDir
    Path dir;
    private final Logger jul = Logger.getLogger("org.dmabuf.exporter.heap");
    private final List<String> said = new ArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord r) {
            synchronized (said) {
                said.add(r.getMessage());
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private long fdsBefore;
    private long mapsBefore;

    @BeforeEach
    void nodes() throws Exception {
        fdsBefore = CommonExporterTests.bufferFds();
        mapsBefore = CommonExporterTests.bufferMappings();
        jul.addHandler(handler);
        long rdev = (Long) Files.getAttribute(SYSTEM, "unix:rdev");
        for (String n : NODES) {
            Process p = new ProcessBuilder("mknod", dir.resolve(n).toString(), "c",
                    String.valueOf(HeapNames.major(rdev)), String.valueOf(HeapNames.minor(rdev)))
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            assertThat(p.waitFor()).as("mknod %s: %s", n, out).isZero();
        }
        Files.createSymbolicLink(dir.resolve("udev-name"), SYSTEM);
    }

    @AfterEach
    void nothingLeft() throws IOException {
        jul.removeHandler(handler);
        Files.delete(dir.resolve("udev-name"));
        assertThat(CommonExporterTests.bufferFds()).as("buffer fds left open").isEqualTo(fdsBefore);
        assertThat(CommonExporterTests.bufferMappings()).as("buffer mappings left").isEqualTo(mapsBefore);
    }

    private List<String> said() {
        synchronized (said) {
            return List.copyOf(said);
        }
    }

    private HeapConfigs.Recording activate(HeapExporters exporters, Map<String, Object> config) {
        HeapConfigs.Recording r = new HeapConfigs.Recording();
        exporters.activate(r.context, HeapConfigs.config(config));
        return r;
    }

    @Test
    void theRealSystemHeapIsTheKernelsSystemHeap() {
        try (DmaHeapExporter heap = new DmaHeapExporter(SYSTEM.toString())) {
            assertThat(heap.kernelName()).isEqualTo("system");
            assertThat(heap.heap()).isEqualTo(new HeapNames.Heap("system", false, false, HeapNames.Place.SYSTEM, true));
            assertThat(HeapNames.ranking(heap.heap(), HeapConfigs.config(Map.of()))).isEqualTo(300);
            assertThat(heap.properties(300)).containsEntry(DmaBufExporter.NAME, "system")
                    .containsEntry(DmaBufExporter.EXP_NAME, "system").containsEntry(DmaBufExporter.CONTIGUOUS, false)
                    .containsEntry(DmaBufExporter.UNCACHED, false);
        }
        assertThat(said()).noneMatch(s -> s.startsWith(SYSTEM + " "));
    }

    @Test
    void nodesNamedAsOtherHeapsAreWhatTheKernelSaysTheyAreAndTheDifferenceIsSaidOnce() {
        Map<String, Object> config = Map.of("dmaheap_dir", dir.toString(), "udmabuf_enabled", false,
                "memfd_enabled", false);
        HeapExporters exporters = new HeapExporters();
        HeapConfigs.Recording r = activate(exporters, config);
        try {
            List<String> names = new ArrayList<>(NODES);
            names.add("udev-name");
            assertThat(r.services).extracting(HeapConfigs.Service::name).containsExactlyInAnyOrderElementsOf(names);
            for (HeapConfigs.Service s : r.services) {
                assertThat(s.properties()).as(s.name()).containsEntry(DmaBufExporter.EXP_NAME, "system")
                        .containsEntry(DmaBufExporter.CONTIGUOUS, false).containsEntry(DmaBufExporter.UNCACHED, false)
                        .containsEntry(DmaBufExporter.DEV_PATH, dir.resolve(s.name()).toString());
                assertThat(s.ranking()).as(s.name()).isEqualTo(300);
                assertThat(said()).as(s.name()).containsOnlyOnce(dir.resolve(s.name()) + " is the kernel's dma-heap "
                        + "'system' (sysfs /sys/dev/char): classified as 'system' (its buffers' exp_name), not by the "
                        + "node's name '" + s.name() + "'");
            }
        } finally {
            exporters.deactivate();
        }
        int before = said().size();
        HeapExporters again = new HeapExporters();
        activate(again, config);
        again.deactivate();
        assertThat(said().subList(before, said().size())).as("said once").noneMatch(m -> m.startsWith(dir + "/"));
    }

    @Test
    void theConfigurationDeclaresAHeapContiguousByTheKernelsName() {
        HeapExporters exporters = new HeapExporters();
        HeapConfigs.Recording r = activate(exporters, Map.of("dmaheap_dir", dir.toString(), "udmabuf_enabled", false,
                "memfd_enabled", false, "dmaheap_contiguous", new String[] {"system"}));
        try {
            assertThat(r.services).hasSize(NODES.size() + 1).allSatisfy(s -> {
                assertThat(s.properties()).as(s.name()).containsEntry(DmaBufExporter.CONTIGUOUS, true)
                        .containsEntry(DmaBufExporter.UNCACHED, false);
                assertThat(s.ranking()).as(s.name()).isEqualTo(400);
            });
        } finally {
            exporters.deactivate();
        }
        assertThat(r.services).allSatisfy(s -> assertThat(s.unregistered()[0]).isTrue());
    }

    @Test
    void everyExportersExpNameIsWhatFdinfoSaysOfItsBuffers() throws IOException {
        HeapExporters exporters = new HeapExporters();
        HeapConfigs.Recording r = activate(exporters, Map.of("dmaheap_dir", dir.toString(), "udmabuf_enabled",
                false, "memfd_enabled", false));
        try {
            assertThat(r.services).hasSize(NODES.size() + 1);
            for (HeapConfigs.Service s : r.services) {
                ExportedBuffer b = s.exporter().allocate(new AllocationRequest(4096, s.name(), null,
                        DeviceConstraints.NONE));
                try {
                    assertThat(CommonExporterTests.fdinfo(b.fd()).expName()).as(s.name())
                            .isEqualTo(s.properties().get(DmaBufExporter.EXP_NAME));
                } finally {
                    b.release();
                }
            }
        } finally {
            exporters.deactivate();
        }
    }
}

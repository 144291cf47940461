package org.dmabuf.benchmarks;

import java.util.Map;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.ImporterDevice;
import org.dmabuf.core.DmaBufs;

/**
 * A registry as a plain Java program makes it ({@link DmaBufs}), with the one exporter the run measures: system
 * property {@code dmabuf.bench.exporter} = {@code memfd} (the host; default), {@code system} (the dma-heaps),
 * {@code udmabuf} or {@code vgem} (dumb buffers of /dev/dri/card0, configured as {@code org.dmabuf.exporter.drm~card0}).
 * Closing it releases everything and closes the device nodes.
 *
 * <p>Not thread-safe: one benchmark thread owns it.
 */
final class Env implements AutoCloseable {
    static final String EXPORTER = System.getProperty("dmabuf.bench.exporter", "memfd");

    final DmaBufs registry;

    Env(String owner) {
        registry = open(owner, EXPORTER);
        if (registry.exporters().isEmpty()) {
            registry.close();
            throw new IllegalStateException("dmabuf.bench.exporter=" + EXPORTER + ": absent here: "
                    + String.join("; ", registry.fallbacks()));
        }
    }

    /**
     * A registry with one kind of exporter: every other heap exporter configured off.
     *
     * @param owner the owner bufinfo shows
     * @param exporter memfd, system, udmabuf or vgem
     * @return the registry
     */
    static DmaBufs open(String owner, String exporter) {
        if (!java.util.List.of("memfd", "system", "udmabuf", "vgem").contains(exporter)) {
            throw new IllegalArgumentException("dmabuf.bench.exporter=" + exporter
                    + ": not memfd, system, udmabuf or vgem");
        }
        DmaBufs.Builder b = DmaBufs.builder().owner(owner).configure("org.dmabuf.exporter.heap", Map.of(
                "dmaheap.enabled", exporter.equals("system"), "udmabuf.enabled", exporter.equals("udmabuf"),
                "udmabuf.ranking", 300, "memfd.enabled", exporter.equals("memfd")));
        if (exporter.equals("vgem")) {
            b.configure("org.dmabuf.exporter.drm~card0", Map.of("dev.path", "/dev/dri/card0", "service.ranking", 300));
        }
        return b.open();
    }

    /**
     * @return the device attach + map measure: vgem's PRIME importer on vgem, else a device whose import does
     *         nothing (what the core does around an importer, without a driver)
     */
    ImporterDevice importer() {
        return registry.importer("card0").orElseGet(() -> new ImporterDevice() {
            @Override
            public String name() {
                return "bench-importer";
            }

            @Override
            public AutoCloseable importBuffer(DmaBuf buffer, int fd) {
                return () -> { };
            }
        });
    }

    @Override
    public void close() {
        registry.close();
    }
}

package org.dmabuf.benchmarks;

import java.util.ArrayList;
import java.util.List;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.ImporterDevice;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.exporter.drm.BenchmarkDrm;
import org.dmabuf.exporter.heap.BenchmarkExporters;

/**
 * A registry as a plain Java program makes it, with the one exporter the run measures: system property
 * {@code dmabuf.bench.exporter} = {@code memfd} (the host; default), {@code system} (the dma-heap),
 * {@code udmabuf} or {@code vgem} (dumb buffers of /dev/dri/card0). Closing it releases everything.
 *
 * <p>Not thread-safe: one benchmark thread owns it.
 */
final class Env implements AutoCloseable {
    static final String EXPORTER = System.getProperty("dmabuf.bench.exporter", "memfd");

    final StandaloneRegistry registry;
    private final List<AutoCloseable> owned = new ArrayList<>();
    private BenchmarkDrm drm;

    Env(String owner) {
        registry = new StandaloneRegistry(owner);
        switch (EXPORTER) {
            case "memfd" -> add(BenchmarkExporters.memfd());
            case "system" -> add(BenchmarkExporters.dmaHeap("/dev/dma_heap/system"));
            case "udmabuf" -> add(BenchmarkExporters.udmabuf());
            case "vgem" -> {
                drm = new BenchmarkDrm("/dev/dri/card0");
                registry.addExporter(drm.exporter(), drm.properties());
            }
            default -> throw new IllegalArgumentException("dmabuf.bench.exporter=" + EXPORTER
                    + ": not memfd, system, udmabuf or vgem");
        }
    }

    private void add(BenchmarkExporters.Made made) {
        registry.addExporter(made.exporter(), made.properties());
        if (made.exporter() instanceof AutoCloseable c) {
            owned.add(c);
        }
    }

    /**
     * @return the device attach + map measure: vgem's PRIME importer on vgem, else a device whose import does
     *         nothing (what the core does around an importer, without a driver)
     */
    ImporterDevice importer() {
        if (drm != null) {
            return drm.importer();
        }
        return new ImporterDevice() {
            @Override
            public String name() {
                return "bench-importer";
            }

            @Override
            public AutoCloseable importBuffer(DmaBuf buffer, int fd) {
                return () -> { };
            }
        };
    }

    @Override
    public void close() {
        registry.close();
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        if (drm != null) {
            drm.close();
        }
    }
}

package org.dmabuf.exporter.drm;

import java.util.Map;
import org.dmabuf.api.ImporterDevice;
import org.dmabuf.spi.DmaBufExporter;

/**
 * The DRM module's dumb-buffer exporter and PRIME importer for a plain Java program (the benchmarks): their
 * classes are package-private outside OSGi, so this class, in their package on the class path, makes them. Not
 * part of any bundle.
 */
public final class BenchmarkDrm implements AutoCloseable {
    private final DrmDevice device;
    private final DrmExporter exporter;

    /** @param card a DRM node, e.g. /dev/dri/card0 */
    public BenchmarkDrm(String card) {
        this.device = new DrmDevice(card);
        this.exporter = new DrmExporter(device);
    }

    /** @return the dumb-buffer exporter */
    public DmaBufExporter exporter() {
        return exporter;
    }

    /** @return its service properties, ranking 300 */
    public Map<String, Object> properties() {
        return exporter.properties(300);
    }

    /** @return an importer on the same device (PRIME fd to handle) */
    public ImporterDevice importer() {
        return new DrmImporter(device);
    }

    @Override
    public void close() {
        device.close();
    }
}

package org.dmabuf.exporter.drm;

import org.dmabuf.spi.ExporterProvider;
import org.dmabuf.spi.ExporterSite;

/**
 * DRM devices for a plain Java program ({@code org.dmabuf.core.DmaBufs}), as {@link DrmExporterComponent}
 * registers them in OSGi: one per factory configuration of the same factory PID ({@value DrmExporterComponent#PID}),
 * read through the same {@link DrmExporterComponent.Config}, opened by the same code; the importer device is found
 * by the configuration's name. Found with {@link java.util.ServiceLoader}; loads no OSGi type.
 *
 * <p>Stateless; the entry point's thread calls it.
 */
public final class DrmExporterProvider implements ExporterProvider {
    /** For {@link java.util.ServiceLoader}. */
    public DrmExporterProvider() {
    }

    @Override
    public String pid() {
        return DrmExporterComponent.PID;
    }

    @Override
    public boolean factory() {
        return true;
    }

    @Override
    public boolean openWithoutConfiguration() {
        return false;
    }

    @Override
    public void open(ExporterSite site) {
        DrmExporterComponent.Config config = site.config(DrmExporterComponent.Config.class);
        DrmExporterComponent.Opened opened = DrmExporterComponent.Opened.of(config.dev_path(),
                config.service_ranking());
        site.onClose(opened);
        site.addExporter(opened.exporter(), opened.exporterProperties());
        site.addImporter(opened.importer(), opened.importerProperties());
    }
}

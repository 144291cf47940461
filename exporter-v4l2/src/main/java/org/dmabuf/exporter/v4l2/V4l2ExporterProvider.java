package org.dmabuf.exporter.v4l2;

import org.dmabuf.spi.ExporterProvider;
import org.dmabuf.spi.ExporterSite;

/**
 * V4L2 capture nodes for a plain Java program ({@code org.dmabuf.core.DmaBufs}), as {@link V4l2ExporterComponent}
 * registers them in OSGi: one per factory configuration of the same factory PID
 * ({@value V4l2ExporterComponent#PID}), read through the same {@link V4l2ExporterComponent.Config}, checked and
 * opened by the same code; the frame source is found by the configuration's name, and its frames belong to the
 * entry point's registry. Found with {@link java.util.ServiceLoader}; loads no OSGi type.
 *
 * <p>Stateless; the entry point's thread calls it.
 */
public final class V4l2ExporterProvider implements ExporterProvider {
    /** For {@link java.util.ServiceLoader}. */
    public V4l2ExporterProvider() {
    }

    @Override
    public String pid() {
        return V4l2ExporterComponent.PID;
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
        V4l2ExporterComponent.Opened opened = V4l2ExporterComponent.Opened.of(
                site.config(V4l2ExporterComponent.Config.class), site.registry());
        site.onClose(opened);
        if (opened.exporter() != null) {
            site.addExporter(opened.exporter(), opened.exporterProperties());
        }
        site.addFrameSource(opened.source(), opened.sourceProperties());
    }
}

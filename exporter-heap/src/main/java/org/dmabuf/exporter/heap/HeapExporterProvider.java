package org.dmabuf.exporter.heap;

import org.dmabuf.spi.ExporterProvider;
import org.dmabuf.spi.ExporterSite;

/**
 * The heap exporters for a plain Java program ({@code org.dmabuf.core.DmaBufs}), as {@link HeapExporters} registers
 * them in OSGi: the same PID ({@value HeapExporters#PID}), configuration ({@link HeapExporters.Config}) and code;
 * opened without a configuration too. Found with {@link java.util.ServiceLoader}; loads no OSGi type.
 *
 * <p>Stateless; the entry point's thread calls it.
 */
public final class HeapExporterProvider implements ExporterProvider {
    /** For {@link java.util.ServiceLoader}. */
    public HeapExporterProvider() {
    }

    @Override
    public String pid() {
        return HeapExporters.PID;
    }

    @Override
    public boolean factory() {
        return false;
    }

    @Override
    public boolean openWithoutConfiguration() {
        return true;
    }

    @Override
    public void open(ExporterSite site) {
        HeapExporters.Config config = site.config(HeapExporters.Config.class);
        HeapExporters.open(config, (exporter, props, owned) -> {
            if (owned != null) {
                site.onClose(owned);
            }
            site.addExporter(exporter, props);
        }).forEach(site::fallback);
    }
}

package org.dmabuf.examples.hugetlb;

import org.dmabuf.spi.ExporterProvider;
import org.dmabuf.spi.ExporterSite;

/**
 * The huge-page exporter for a plain Java program ({@code org.dmabuf.core.DmaBufs}), as
 * {@link HugetlbExporterComponent} registers it in OSGi: one per factory configuration of the same factory PID
 * ({@value HugetlbExporterComponent#PID}), read through the same {@link HugetlbExporterComponent.Config}, opened by
 * the same code. Without a configuration it opens nothing, so the jar on a class path changes nothing until asked.
 * Found with {@link java.util.ServiceLoader}; loads no OSGi type.
 *
 * <p>Stateless; the entry point's thread calls it.
 */
public final class HugetlbExporterProvider implements ExporterProvider {
    /** For {@link java.util.ServiceLoader}. */
    public HugetlbExporterProvider() {
    }

    @Override
    public String pid() {
        return HugetlbExporterComponent.PID;
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
        HugetlbExporterComponent.Config config = site.config(HugetlbExporterComponent.Config.class);
        HugetlbExporter exporter = HugetlbExporterComponent.open(config, HugePages.SYSFS, HugePages.MEMINFO);
        site.addExporter(exporter, exporter.properties(config.service_ranking()));
    }
}

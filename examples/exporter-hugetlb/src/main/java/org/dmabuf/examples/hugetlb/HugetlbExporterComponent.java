package org.dmabuf.examples.hugetlb;

import java.nio.file.Path;
import java.util.Hashtable;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.dmabuf.spi.DmaBufExporter;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * One huge page pool as an exporter, per factory configuration (factory PID {@value #PID}): finds the pool of the
 * configured page size and registers a {@link DmaBufExporter} of sealed huge-page memfds. The service is registered
 * here rather than by SCR because its properties carry the page size, known only once the pool is found.
 *
 * <p>Nothing is registered without a configuration: huge pages are memory the administrator sets aside
 * ({@code nr_hugepages}), and enabling this exporter goes with that step. Activation fails, with a
 * {@link org.dmabuf.linux.LinuxException} naming the folder and the page sizes the kernel has, where the kernel has
 * no pool of the page size; an empty pool is logged, not refused (pages can be reserved later), and each allocation
 * it cannot serve fails on its own.
 *
 * <p>Threads: SCR calls activate and deactivate; the registered exporter is thread-safe.
 */
@Component(immediate = true, configurationPid = HugetlbExporterComponent.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE, service = {})
@Designate(ocd = HugetlbExporterComponent.Config.class, factory = true)
public final class HugetlbExporterComponent {
    /** The factory PID. */
    public static final String PID = "org.dmabuf.examples.hugetlb";

    private static final System.Logger LOG = System.getLogger(PID);

    /** One huge page pool. */
    @ObjectClassDefinition(name = "dmabuf-osgi huge-page exporter (example)",
            description = "Sealed memfds of huge pages (MFD_HUGETLB) from one pool.")
    public @interface Config {
        /** @return the page size in bytes (2097152, 1073741824), or 0 for the kernel's default huge page size */
        @AttributeDefinition(name = "Page size", description = "bytes; 0 for the kernel's default (Hugepagesize)")
        long page_size() default 0;

        /** @return the exporter's name; empty for {@code hugetlb-<size>}, for example {@code hugetlb-2MB} */
        @AttributeDefinition(name = "Name", description = "the exporter's name; empty for hugetlb-<page size>")
        String name() default "";

        /** @return the exporter's ranking: below the sealed memfd's 100, so never chosen over a real heap */
        @AttributeDefinition(name = "Ranking", description = "service.ranking; the sealed memfd has 100")
        int service_ranking() default 50;
    }

    /** What activation registered; taken (and so unregistered) once by deactivation. */
    private final AtomicReference<ServiceRegistration<DmaBufExporter>> registered = new AtomicReference<>();

    /**
     * The exporter a configuration asks for, without a framework: what activation registers and what the
     * plain-Java entry point adds ({@link HugetlbExporterProvider}).
     *
     * @param config the configuration
     * @param sysfs the pools' folder ({@code /sys/kernel/mm/hugepages})
     * @param meminfo {@code /proc/meminfo}
     * @return the exporter
     * @throws org.dmabuf.linux.LinuxException ({@code ENOENT}, {@code EINVAL}) naming the folder or the page size,
     *         and what the kernel has
     */
    static HugetlbExporter open(Config config, Path sysfs, Path meminfo) {
        HugePages pool = HugePages.of(sysfs, meminfo, config.page_size());
        String name = config.name().isEmpty() ? "hugetlb-" + HugePages.label(pool.pageSize()) : config.name();
        HugetlbExporter exporter = new HugetlbExporter(name, pool);
        if (pool.free() <= 0) {
            LOG.log(System.Logger.Level.WARNING, name + ": " + pool.advice(1)
                    + "; allocations fail until pages are reserved");
        }
        return exporter;
    }

    /**
     * Finds the configured pool and registers its exporter.
     *
     * @param context the bundle's context
     * @param config the factory configuration
     * @throws org.dmabuf.linux.LinuxException if the kernel has no pool of the page size; nothing is registered
     */
    @Activate
    void activate(BundleContext context, Config config) {
        HugetlbExporter exporter = open(config, HugePages.SYSFS, HugePages.MEMINFO);
        Map<String, Object> props = exporter.properties(config.service_ranking());
        registered.set(context.registerService(DmaBufExporter.class, exporter, new Hashtable<>(props)));
    }

    /** Unregisters the exporter, once; buffers it made stay valid until released. */
    @Deactivate
    void deactivate() {
        ServiceRegistration<DmaBufExporter> r = registered.getAndSet(null);
        if (r != null) {
            try {
                r.unregister();
            } catch (IllegalStateException e) {
                // the framework unregistered it as the bundle stopped
            }
        }
    }
}

package org.dmabuf.spi;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Makes exporters for a plain Java program, as a Declarative Services component makes them in OSGi: found with
 * {@link java.util.ServiceLoader} ({@code META-INF/services/org.dmabuf.spi.ExporterProvider}) by
 * {@code org.dmabuf.core.DmaBufs}, configured by the same PID and properties as the component, read through the
 * component's own configuration annotation ({@link ExporterSite#config}). A provider loads no OSGi type: it runs
 * without a framework. In OSGi, providers are not used; the components are.
 *
 * <p>Threads: {@link #open} is called by the thread that opens the entry point, once per configuration;
 * implementations are stateless.
 *
 * @since 1.2
 */
@ConsumerType
public interface ExporterProvider {
    /**
     * The configuration PID, or factory PID, this provider reads: the component's, for example
     * {@code org.dmabuf.exporter.heap}.
     *
     * @return the PID
     */
    String pid();

    /**
     * Whether configurations are factory configurations ({@code FACTORYPID~NAME}), one instance each, as a component
     * with a factory designate; false for one configuration under {@link #pid()}.
     *
     * @return true for factory configurations
     */
    boolean factory();

    /**
     * Whether an instance is opened without any configuration, as a component whose configuration policy is
     * {@code OPTIONAL}; false when a configuration is required ({@code REQUIRE}).
     *
     * @return true to open with the defaults when nothing is configured
     */
    boolean openWithoutConfiguration();

    /**
     * Opens one instance: reads the configuration, opens what it names and adds the exporters, importer devices
     * and frame sources it makes to the site, with everything to close at the end. On failure it closes what it
     * opened and throws.
     *
     * @param site the configuration and where to put what is made
     * @throws org.dmabuf.api.DmaBufException naming the property, node, call and errno, as the component's
     *         activation fails
     */
    void open(ExporterSite site);
}

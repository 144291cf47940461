package org.dmabuf.testkit;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.spi.DmaBufExporter;

/**
 * A registry holding one exporter alone, for running the {@link ExporterContract} from plain JUnit (no OSGi
 * framework): the exporter is registered with the service properties it would have as an OSGi service.
 *
 * <pre>{@code
 * try (ContractRegistry r = ContractRegistry.of(exporter, properties)) {
 *     ExporterContract.of(r.registry(), "memfd").verify();
 * }
 * }</pre>
 *
 * <p>Plain Java only: it builds the core's registry, which an OSGi framework does not export (there, use the
 * registry service).
 *
 * <p>{@link #close()} releases every buffer the registry still holds; it does not close the exporter, which
 * belongs to the caller. Thread-safe as the registry is; close once, from the thread that made it.
 */
public final class ContractRegistry implements AutoCloseable {
    private final StandaloneRegistry registry;

    private ContractRegistry(StandaloneRegistry registry) {
        this.registry = registry;
    }

    /**
     * A registry holding this exporter alone.
     *
     * @param exporter the exporter under test
     * @param properties its service properties ({@link DmaBufExporter#NAME}, {@link DmaBufExporter#EXP_NAME},
     *        {@link DmaBufExporter#KIND}, ...)
     * @return the registry, owned by the caller
     * @throws IllegalArgumentException if the properties do not name the exporter ({@link DmaBufExporter#NAME})
     */
    public static ContractRegistry of(DmaBufExporter exporter, Map<String, ?> properties) {
        Objects.requireNonNull(exporter, "exporter");
        Map<String, Object> props = new HashMap<>(Objects.requireNonNull(properties, "properties"));
        if (!(props.get(DmaBufExporter.NAME) instanceof String)) {
            throw new IllegalArgumentException("ContractRegistry.of: the properties hold no " + DmaBufExporter.NAME
                    + " (the exporter's name): " + props);
        }
        StandaloneRegistry r = new StandaloneRegistry("exporter-contract").addExporter(exporter, props);
        KnownProperties.put(r, props);
        return new ContractRegistry(r);
    }

    /**
     * The registry to build the contract on.
     *
     * @return the registry
     */
    public DmaBufRegistry registry() {
        return registry;
    }

    /** Releases the buffers the registry holds (never the exporter). */
    @Override
    public void close() {
        KnownProperties.remove(registry);
        registry.close();
    }
}

package org.dmabuf.core;

import java.util.Map;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.spi.DmaBufExporter;

/**
 * The registry outside OSGi: for plain Java programs, command-line tools and exporters' own tests. Exporters are
 * added by hand with the service properties they would register; {@link #close()} releases every buffer the
 * program left open. In an OSGi framework use the {@link DmaBufRegistry} service instead.
 *
 * <p>Thread-safe: any thread may call any method.
 */
public final class StandaloneRegistry extends ScopedRegistry implements AutoCloseable {
    private final BufferRegistry registry;

    /**
     * An empty registry.
     *
     * @param owner the name bufinfo shows as the owner of this program's buffers
     */
    public StandaloneRegistry(String owner) {
        this(new BufferRegistry(), owner);
    }

    private StandaloneRegistry(BufferRegistry registry, String owner) {
        super(registry.open(owner));
        this.registry = registry;
    }

    /**
     * Adds an exporter, as SCR would bind its service.
     *
     * @param exporter the exporter
     * @param properties its service properties ({@link DmaBufExporter#NAME} at least; {@code service.ranking},
     *        {@code service.id} for the order)
     * @return this registry
     */
    public StandaloneRegistry addExporter(DmaBufExporter exporter, Map<String, Object> properties) {
        registry.bindExporter(exporter, properties);
        return this;
    }

    /**
     * Removes an exporter; the buffers it made stay valid.
     *
     * @param exporter the exporter
     */
    public void removeExporter(DmaBufExporter exporter) {
        registry.unbindExporter(exporter, Map.of());
    }

    /**
     * Buffer channels whose received buffers belong to this registry.
     *
     * @return the channels
     */
    public org.dmabuf.api.BufferChannels channels() {
        return new Channels(scope);
    }

    /** Releases everything still open, then any buffer still referenced. */
    @Override
    public void close() {
        scope.close();
        registry.deactivate();
    }
}

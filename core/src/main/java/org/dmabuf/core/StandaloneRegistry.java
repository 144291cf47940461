package org.dmabuf.core;

import java.util.List;
import java.util.Map;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.ExporterInfo;
import org.dmabuf.spi.DmaBufExporter;

/**
 * The registry outside OSGi: for plain Java programs, command-line tools and exporters' own tests. Exporters are
 * added by hand with the service properties they would register; {@link #close()} releases every buffer the
 * program left open. In an OSGi framework use the {@link DmaBufRegistry} service instead.
 *
 * <p>Thread-safe: any thread may call any method.
 */
public final class StandaloneRegistry implements DmaBufRegistry, AutoCloseable {
    private final BufferRegistry registry = new BufferRegistry();
    private final OwnerScope scope;

    /**
     * An empty registry.
     *
     * @param owner the name bufinfo shows as the owner of this program's buffers
     */
    public StandaloneRegistry(String owner) {
        this.scope = registry.open(owner);
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

    @Override
    public DmaBuf create(BufferRequest request) {
        return scope.create(request);
    }

    @Override
    public DmaBuf allocate(BufferRequest request) {
        return scope.allocate(request);
    }

    @Override
    public DmaBuf get(int fd) {
        return scope.get(fd);
    }

    @Override
    public List<BufferInfo> bufinfo() {
        return scope.bufinfo();
    }

    @Override
    public List<ExporterInfo> exporters() {
        return scope.exporters();
    }

    /** Releases everything still open, then any buffer still referenced. */
    @Override
    public void close() {
        scope.close();
        registry.deactivate();
    }
}

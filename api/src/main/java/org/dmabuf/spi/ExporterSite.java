package org.dmabuf.spi;

import java.util.Map;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.FrameSource;
import org.dmabuf.api.ImporterDevice;
import org.osgi.annotation.versioning.ProviderType;

/**
 * What an {@link ExporterProvider} is given to open one instance: its configuration and where to put what it
 * makes, as a component gets its configuration and a {@code BundleContext} to register services with. The entry
 * point ({@code org.dmabuf.core.DmaBufs}) implements it and closes everything added, last added first.
 *
 * <p>Threads: only the thread that called {@link ExporterProvider#open} may call it, during that call.
 *
 * @since 1.2
 */
@ProviderType
public interface ExporterSite {
    /**
     * The configuration's name: the {@code NAME} of a factory configuration {@code FACTORYPID~NAME}, or the PID.
     * Importer devices and frame sources added are found by this name.
     *
     * @return the name
     */
    String name();

    /**
     * The configuration read through a component property type, with Declarative Services' mapping of method names
     * to property names ({@code dev_path()} reads {@code dev.path}, {@code a__b()} reads {@code a_b},
     * {@code a$_$b()} reads {@code a-b}) and its conversions (a String, Integer, Long or Boolean to the method's
     * type); an absent property gives the method's default.
     *
     * @param <A> the type
     * @param type an annotation interface, such as a component's {@code Config}
     * @return the configuration
     * @throws org.dmabuf.api.InvalidArgumentException ({@code EINVAL}) naming the PID and the property for a value
     *         that does not convert to the method's type, or a property without a default that is absent
     */
    <A> A config(Class<A> type);

    /**
     * The registry the frames of a frame source belong to, as a component's {@code DmaBufRegistry} reference.
     *
     * @return the registry
     */
    DmaBufRegistry registry();

    /**
     * Adds an exporter, as registering its service.
     *
     * @param exporter the exporter
     * @param properties its service properties ({@link DmaBufExporter#NAME} and {@code service.ranking} at least)
     */
    void addExporter(DmaBufExporter exporter, Map<String, Object> properties);

    /**
     * Adds an importer device, found by {@link #name()}.
     *
     * @param device the device
     * @param properties its service properties
     */
    void addImporter(ImporterDevice device, Map<String, Object> properties);

    /**
     * Adds a frame source, found by {@link #name()}.
     *
     * @param source the source
     * @param properties its service properties
     */
    void addFrameSource(FrameSource source, Map<String, Object> properties);

    /**
     * Reports something absent and the fallback taken ({@code /dev/dma_heap is absent ...}), already logged.
     *
     * @param message what is absent and what is used instead
     */
    void fallback(String message);

    /**
     * Adds something to close when the entry point closes (a device node, an exporter), after every buffer was
     * released; closed in the reverse order of adding.
     *
     * @param resource the resource
     */
    void onClose(AutoCloseable resource);
}

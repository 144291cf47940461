package org.dmabuf.exporter.drm;

import java.util.ArrayList;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.dmabuf.api.ImporterDevice;
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
 * One DRM device, configured by a factory configuration (PID {@value #PID}) that names its node: registers the
 * device as a {@link DmaBufExporter} (dumb buffers + PRIME) and as an {@link ImporterDevice}. The services are
 * registered here rather than by SCR so that their properties can carry the driver's name, which is only known
 * once the node is open. The configured node exports (with DRM master dropped right after opening, see
 * {@link DrmDevice}); imports go through the device's render node when it has one (property
 * {@code drm.import.node}). A node that is not DRM, or a driver without dumb buffers or PRIME, fails activation with
 * an error naming the path, the call and errno.
 *
 * <p>Threads: SCR calls activate and deactivate; the registered services are thread-safe.
 */
@Component(immediate = true, configurationPid = DrmExporterComponent.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE, service = {})
@Designate(ocd = DrmExporterComponent.Config.class, factory = true)
public final class DrmExporterComponent {
    /** The factory PID. */
    public static final String PID = "org.dmabuf.exporter.drm";

    /** One DRM device. */
    @ObjectClassDefinition(name = "dmabuf-osgi DRM device", description = "A DRM node as exporter and importer.")
    public @interface Config {
        /** @return the node, for example /dev/dri/card0 or /dev/dri/renderD128 */
        @AttributeDefinition(name = "Device node")
        String dev_path();

        /** @return the exporter's service.ranking */
        @AttributeDefinition(name = "Ranking")
        int service_ranking() default 150;
    }

    private final AtomicReference<Registered> registered = new AtomicReference<>();

    /**
     * One device opened, without a framework: the configured node, which exports (dumb buffers need a primary
     * node), and the node imports go through, its render node where it has one (else the same), with the exporter,
     * the importer and the service properties each is registered with. What activation registers, and what the
     * plain-Java entry point adds ({@link DrmExporterProvider}).
     */
    record Opened(DrmDevice device, DrmDevice importNode, DrmExporter exporter, DrmImporter importer,
            Map<String, Object> exporterProperties, Map<String, Object> importerProperties)
            implements AutoCloseable {
        /**
         * Opens a node.
         *
         * @param path the configured {@code dev.path}
         * @param ranking the exporter's ranking
         * @return the device, exporter and importer
         * @throws org.dmabuf.api.InvalidArgumentException ({@code EINVAL}) if {@code dev.path} is absent
         * @throws org.dmabuf.linux.LinuxException naming the path, the call and errno if the node is not DRM or
         *         its driver has no dumb buffers or PRIME; nothing stays open
         */
        static Opened of(String path, int ranking) {
            if (path == null) {
                throw new org.dmabuf.api.InvalidArgumentException("activate", PID + ": property dev.path is "
                        + "required (it has no default) and is absent");
            }
            DrmDevice device = new DrmDevice(path);
            DrmDevice importNode = device;
            try {
                device.requireExportAndImport();
                importNode = DrmDevice.openImportNode(device);
                DrmExporter exporter = new DrmExporter(device);
                Map<String, Object> props = exporter.properties(ranking);
                Map<String, Object> dev = new LinkedHashMap<>();
                dev.put(DmaBufExporter.DEV_PATH, path);
                dev.put("dmabuf.device.name", device.driver());
                dev.put("drm.import.node", importNode.path());
                return new Opened(device, importNode, exporter, new DrmImporter(importNode, device), props, dev);
            } catch (RuntimeException e) {
                if (importNode != device) {
                    importNode.close();
                }
                device.close();
                throw e;
            }
        }

        @Override
        public void close() {
            if (importNode != device) {
                importNode.close();
            }
            device.close();
        }
    }

    /** What one device registered: its services, and the device they serve. */
    record Registered(Opened opened, List<ServiceRegistration<?>> registrations) implements AutoCloseable {
        static Registered of(BundleContext context, String path, int ranking) {
            Opened opened = Opened.of(path, ranking);
            List<ServiceRegistration<?>> regs = new ArrayList<>();
            try {
                regs.add(context.registerService(DmaBufExporter.class, opened.exporter(),
                        new Hashtable<>(opened.exporterProperties())));
                regs.add(context.registerService(ImporterDevice.class, opened.importer(),
                        new Hashtable<>(opened.importerProperties())));
                return new Registered(opened, regs);
            } catch (RuntimeException e) {
                new Registered(opened, regs).close();
                throw e;
            }
        }

        @Override
        public void close() {
            for (ServiceRegistration<?> r : registrations) {
                try {
                    r.unregister();
                } catch (IllegalStateException e) {
                    // the framework unregistered it as the bundle stopped
                }
            }
            opened.close();
        }
    }

    @Activate
    void activate(BundleContext context, Config config) {
        registered.set(Registered.of(context, config.dev_path(), config.service_ranking()));
    }

    @Deactivate
    void deactivate() {
        Registered r = registered.getAndSet(null);
        if (r != null) {
            r.close();
        }
    }
}

package org.dmabuf.exporter.drm;

import java.util.ArrayList;
import java.util.Hashtable;
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
     * What one device registered, and its open nodes: the configured node, which exports (dumb buffers need a
     * primary node), and the node imports go through, its render node where it has one (else the same).
     */
    record Registered(DrmDevice device, DrmDevice importNode, List<ServiceRegistration<?>> registrations)
            implements AutoCloseable {
        static Registered of(BundleContext context, String path, int ranking) {
            DrmDevice device = new DrmDevice(path);
            DrmDevice importNode = device;
            List<ServiceRegistration<?>> regs = new ArrayList<>();
            try {
                device.requireExportAndImport();
                importNode = DrmDevice.openImportNode(device);
                DrmExporter exporter = new DrmExporter(device);
                Map<String, Object> props = exporter.properties(ranking);
                regs.add(context.registerService(DmaBufExporter.class, exporter, new Hashtable<>(props)));
                Hashtable<String, Object> dev = new Hashtable<>();
                dev.put(DmaBufExporter.DEV_PATH, path);
                dev.put("dmabuf.device.name", device.driver());
                dev.put("drm.import.node", importNode.path());
                regs.add(context.registerService(ImporterDevice.class, new DrmImporter(importNode, device), dev));
                return new Registered(device, importNode, regs);
            } catch (RuntimeException e) {
                new Registered(device, importNode, regs).close();
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
            if (importNode != device) {
                importNode.close();
            }
            device.close();
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

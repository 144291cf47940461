package org.dmabuf.exporter.drm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.dmabuf.linux.LinuxException;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Optional discovery: with a configuration (PID {@value #PID}) it registers every {@code /dev/dri/card*} node
 * whose driver has dumb buffers and PRIME, as {@link DrmExporterComponent} does for one configured node. Off
 * unless configured, so that configured nodes are not registered twice; nodes that cannot serve are logged and
 * skipped. Threads: SCR calls activate and deactivate.
 */
@Component(immediate = true, configurationPid = DrmDiscovery.PID, configurationPolicy = ConfigurationPolicy.REQUIRE,
        service = {})
@Designate(ocd = DrmDiscovery.Config.class)
public final class DrmDiscovery {
    /** The PID. */
    public static final String PID = "org.dmabuf.exporter.drm.discovery";

    private static final System.Logger LOG = System.getLogger("org.dmabuf.exporter.drm");

    /** Where to look. */
    @ObjectClassDefinition(name = "dmabuf-osgi DRM discovery")
    public @interface Config {
        /** @return the folder of DRM nodes */
        @AttributeDefinition(name = "Folder")
        String dir() default "/dev/dri";

        /** @return the ranking of every discovered exporter */
        @AttributeDefinition(name = "Ranking")
        int service_ranking() default 150;
    }

    private final AtomicReference<List<DrmExporterComponent.Registered>> registered = new AtomicReference<>();

    @Activate
    void activate(BundleContext context, Config config) {
        List<DrmExporterComponent.Registered> out = new ArrayList<>();
        try (Stream<Path> nodes = Files.list(Path.of(config.dir()))) {
            for (Path node : nodes.filter(p -> p.getFileName().toString().startsWith("card")).sorted().toList()) {
                try {
                    out.add(DrmExporterComponent.Registered.of(context, node.toString(), config.service_ranking()));
                } catch (LinuxException e) {
                    LOG.log(System.Logger.Level.WARNING, node + " skipped: " + e.getMessage());
                }
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, config.dir() + " cannot be listed (no DRM devices): " + e);
        }
        registered.set(out);
    }

    @Deactivate
    void deactivate() {
        List<DrmExporterComponent.Registered> r = registered.getAndSet(null);
        if (r != null) {
            r.forEach(DrmExporterComponent.Registered::close);
        }
    }
}

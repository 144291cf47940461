package org.dmabuf.gateway;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Hashtable;
import java.util.List;
import org.dmabuf.spi.ExporterConfiguration;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * Loads the distribution's configuration folder into ConfigAdmin at start: {@code PID.cfg} is a configuration,
 * {@code FACTORYPID~NAME.cfg} a factory configuration; each file holds Java properties whose values become
 * Integer, Long or Boolean where they parse as such, String otherwise ({@link ExporterConfiguration}, which the
 * plain-Java entry point reads too). When the launcher turned the status page on with {@code --status} and no
 * {@code org.dmabuf.status.cfg} configured it, it creates that configuration (the status component needs one).
 * Threads: SCR's, once at activation.
 */
@Component(immediate = true)
public final class ConfigLoader {
    /** Framework property: the configuration folder. */
    static final String CONF = "dmabuf.gateway.conf";

    private static final System.Logger LOG = System.getLogger("org.dmabuf.gateway");

    /**
     * Loads every {@code .cfg} file.
     *
     * @param admin ConfigAdmin
     * @param context for the folder's location
     */
    @Activate
    public ConfigLoader(@Reference ConfigurationAdmin admin, BundleContext context) {
        String dir = context.getProperty(CONF);
        if (dir == null || !Files.isDirectory(Path.of(dir))) {
            status(admin, context);
            return;
        }
        List<Path> files;
        try {
            files = ExporterConfiguration.files(Path.of(dir));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "configuration folder " + dir + ": " + e);
            files = List.of();
        }
        for (Path f : files) {
            try {
                load(admin, f);
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "configuration " + f + " not loaded: " + e);
            }
        }
        status(admin, context);
    }

    /**
     * Turns the status page on when the launcher says so ({@code --status} without {@code org.dmabuf.status.cfg}):
     * its component needs a configuration, which says where the HTTP service listens.
     */
    private static void status(ConfigurationAdmin admin, BundleContext context) {
        String port = context.getProperty(Main.STATUS);
        if (port == null) {
            return;
        }
        try {
            Configuration c = admin.getConfiguration(Main.STATUS_PID, "?");
            if (c.getProperties() == null) { // not loaded from the configuration folder
                Hashtable<String, Object> p = new Hashtable<>();
                p.put("port", Integer.parseInt(port));
                p.put("host", context.getProperty(Main.HTTP_HOST));
                c.update(p);
            }
            LOG.log(System.Logger.Level.INFO, "status page: http://" + context.getProperty(Main.HTTP_HOST) + ":"
                    + context.getProperty(Main.HTTP_PORT) + "/dmabuf/");
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "status page not configured: " + e);
        }
    }

    private static void load(ConfigurationAdmin admin, Path file) throws IOException {
        ExporterConfiguration read = ExporterConfiguration.read(file);
        Configuration c = read.factory() ? admin.getFactoryConfiguration(read.pid(), read.name(), "?")
                : admin.getConfiguration(read.pid(), "?");
        c.update(new Hashtable<>(read.properties()));
        LOG.log(System.Logger.Level.INFO, "configuration " + read.pid() + (read.factory() ? "~" + read.name() : "")
                + " loaded from " + file);
    }

    static Object typed(String v) {
        return ExporterConfiguration.typed(v);
    }
}

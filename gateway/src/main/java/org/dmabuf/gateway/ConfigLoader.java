package org.dmabuf.gateway;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Properties;
import java.util.stream.Stream;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * Loads the distribution's configuration folder into ConfigAdmin at start: {@code PID.cfg} is a configuration,
 * {@code FACTORYPID~NAME.cfg} a factory configuration; each file holds Java properties whose values become
 * Integer, Long or Boolean where they parse as such, String otherwise. Threads: SCR's, once at activation.
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
            return;
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(Path.of(dir))) {
            files = s.filter(p -> p.toString().endsWith(".cfg")).sorted().toList();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "configuration folder " + dir + ": " + e);
            return;
        }
        for (Path f : files) {
            try {
                load(admin, f);
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "configuration " + f + " not loaded: " + e);
            }
        }
    }

    private static void load(ConfigurationAdmin admin, Path file) throws IOException {
        String base = file.getFileName().toString().replaceFirst("\\.cfg$", "");
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        }
        Dictionary<String, Object> d = new Hashtable<>();
        for (String k : p.stringPropertyNames()) {
            d.put(k, typed(p.getProperty(k).trim()));
        }
        int tilde = base.indexOf('~');
        Configuration c = tilde < 0 ? admin.getConfiguration(base, "?")
                : admin.getFactoryConfiguration(base.substring(0, tilde), base.substring(tilde + 1), "?");
        c.update(d);
        LOG.log(System.Logger.Level.INFO, "configuration " + base + " loaded from " + file);
    }

    static Object typed(String v) {
        if (v.equals("true") || v.equals("false")) {
            return Boolean.valueOf(v);
        }
        try {
            long l = Long.parseLong(v);
            return l == (int) l ? (Object) (int) l : (Object) l;
        } catch (NumberFormatException e) {
            return v;
        }
    }
}

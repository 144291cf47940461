package org.dmabuf.spi;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * One configuration of an exporter, as ConfigAdmin holds it, and the {@code .cfg} file format that the gateway's
 * configuration folder and the plain-Java entry point ({@code org.dmabuf.core.DmaBufs}) both read:
 * {@code PID.cfg} is the configuration of a PID, {@code FACTORYPID~NAME.cfg} a factory configuration; each file
 * holds Java properties whose values become Integer, Long or Boolean where they parse as such, String otherwise.
 * Immutable and thread-safe.
 *
 * @param pid the PID, or the factory PID of a factory configuration
 * @param name the factory configuration's name, or null for the configuration of a PID
 * @param properties the properties, typed as {@link #typed(String)} says for those read from a file
 * @since 1.2
 */
public record ExporterConfiguration(String pid, String name, Map<String, Object> properties) {
    /** The file name suffix of a configuration file. */
    public static final String SUFFIX = ".cfg";

    /**
     * Checks and copies.
     *
     * @param pid the PID or factory PID, not empty
     * @param name the factory configuration's name, or null
     * @param properties the properties
     */
    public ExporterConfiguration {
        Objects.requireNonNull(pid, "pid");
        if (pid.isEmpty()) {
            throw new IllegalArgumentException("empty PID");
        }
        properties = java.util.Collections.unmodifiableMap(new TreeMap<>(properties));
    }

    /**
     * Whether this is a factory configuration.
     *
     * @return true if it has a name
     */
    public boolean factory() {
        return name != null;
    }

    /**
     * The configuration files of a folder: its {@code *.cfg} files, sorted by name.
     *
     * @param folder the folder
     * @return the files
     * @throws IOException if the folder cannot be listed
     */
    public static List<Path> files(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).sorted().toList();
        }
    }

    /**
     * Reads one configuration file.
     *
     * @param file {@code PID.cfg} or {@code FACTORYPID~NAME.cfg}
     * @return the configuration
     * @throws IOException if the file cannot be read or is not properties
     * @throws IllegalArgumentException if the file's name gives no PID
     */
    public static ExporterConfiguration read(Path file) throws IOException {
        String base = file.getFileName().toString();
        if (base.endsWith(SUFFIX)) {
            base = base.substring(0, base.length() - SUFFIX.length());
        }
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file)) {
            p.load(r);
        }
        Map<String, Object> props = new LinkedHashMap<>();
        for (String k : p.stringPropertyNames()) {
            props.put(k, typed(p.getProperty(k).trim()));
        }
        int tilde = base.indexOf('~');
        if (tilde == 0 || base.isEmpty()) {
            throw new IllegalArgumentException(file + ": the file name gives no PID");
        }
        return tilde < 0 ? new ExporterConfiguration(base, null, props)
                : new ExporterConfiguration(base.substring(0, tilde), base.substring(tilde + 1), props);
    }

    /**
     * A value of a configuration file, typed: {@code true}/{@code false} a Boolean, an integer an Integer where it
     * fits, else a Long, anything else the String.
     *
     * @param v the value, trimmed
     * @return the typed value
     */
    public static Object typed(String v) {
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

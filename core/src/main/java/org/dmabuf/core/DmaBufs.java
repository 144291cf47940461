package org.dmabuf.core;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeMap;
import org.dmabuf.api.BufferChannels;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.FrameSource;
import org.dmabuf.api.ImporterDevice;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExporterConfiguration;
import org.dmabuf.spi.ExporterProvider;
import org.dmabuf.spi.ExporterSite;

/**
 * dma-buf for a plain Java program: a {@link DmaBufRegistry} with the same exporters as in OSGi, configured by the
 * same properties. The exporter jars on the class path or module path provide them ({@link ExporterProvider}s found
 * with {@link ServiceLoader}): {@code org.dmabuf.exporter.heap} gives the dma-heaps, udmabuf and the sealed memfd
 * without any configuration (what is absent is logged once and listed by {@link #fallbacks()});
 * {@code org.dmabuf.exporter.drm} and {@code org.dmabuf.exporter.v4l2} give a DRM device or a V4L2 capture node per
 * factory configuration. Configurations have the components' PIDs and property names, given as maps or read from a
 * folder of {@code .cfg} files in the gateway's format ({@code PID.cfg}, {@code FACTORYPID~NAME.cfg}); PID
 * {@code org.dmabuf.core.registry} configures the registry itself ({@code leak.trace}).
 *
 * <pre>{@code
 * try (DmaBufs dmabufs = DmaBufs.builder()
 *         .configure("org.dmabuf.exporter.v4l2~camera", Map.of("dev.path", "/dev/video0", "pixel.format", "NV12"))
 *         .open()) {
 *     try (DmaBuf buf = dmabufs.allocate(BufferRequest.ofSize(1 << 20).name("frame"))) {
 *         // ... fill it under beginCpuAccess, send it with dmabufs.channels() ...
 *     }
 *     try (Frame f = dmabufs.frameSource("camera").orElseThrow().next(Duration.ofSeconds(1))) {
 *         // ...
 *     }
 * }   // every buffer released, captures stopped, every device node closed
 * }</pre>
 *
 * <p>{@link #close()} closes the channels it opened, stops the captures, releases every buffer still held, then
 * closes the exporters and their device nodes, last opened first.
 *
 * <p>Thread-safe: any thread may call any method; {@link #open()} and {@link Builder#open()} once per instance.
 */
public final class DmaBufs extends ScopedRegistry implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("org.dmabuf.core");

    final BufferRegistry registry;
    private final Channels channels;
    private final Map<String, ImporterDevice> importers = new TreeMap<>();
    private final Map<String, FrameSource> frameSources = new TreeMap<>();
    private final List<String> fallbacks = new ArrayList<>();
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private long serviceIds;
    private boolean closed;

    private DmaBufs(BufferRegistry registry, String owner) {
        super(registry.open(owner));
        this.registry = registry;
        this.channels = new Channels(scope, owner);
    }

    /**
     * Opens with every exporter provider found and no configuration: the dma-heaps, udmabuf and the sealed memfd,
     * or what of them the kernel has, when {@code org.dmabuf.exporter.heap} is on the path.
     *
     * @return the registry, owned by the caller
     */
    public static DmaBufs open() {
        return builder().open();
    }

    /**
     * A builder, to configure before opening.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Buffer channels to other processes; received buffers belong to this registry. Closed by {@link #close()}.
     *
     * @return the channels
     */
    public BufferChannels channels() {
        return channels;
    }

    /**
     * A frame source by its configuration's name (the {@code NAME} of {@code org.dmabuf.exporter.v4l2~NAME}).
     *
     * @param name the name
     * @return the source, empty if none has that name
     */
    public synchronized Optional<FrameSource> frameSource(String name) {
        return Optional.ofNullable(frameSources.get(name));
    }

    /**
     * Every frame source, by name.
     *
     * @return a snapshot
     */
    public synchronized Map<String, FrameSource> frameSources() {
        return Map.copyOf(frameSources);
    }

    /**
     * An importer device by its configuration's name (the {@code NAME} of {@code org.dmabuf.exporter.drm~NAME}).
     *
     * @param name the name
     * @return the device, empty if none has that name
     */
    public synchronized Optional<ImporterDevice> importer(String name) {
        return Optional.ofNullable(importers.get(name));
    }

    /**
     * Every importer device, by name.
     *
     * @return a snapshot
     */
    public synchronized Map<String, ImporterDevice> importers() {
        return Map.copyOf(importers);
    }

    /**
     * What was absent when opening, and the fallback taken, as the OSGi components log it (logged here once too):
     * {@code /dev/dma_heap is absent (kernel without CONFIG_DMABUF_HEAPS): no dma-heap exporter}, a configuration
     * whose exporter jar is missing, ...
     *
     * @return the messages, empty when everything asked for is there
     */
    public synchronized List<String> fallbacks() {
        return List.copyOf(fallbacks);
    }

    /**
     * Closes the channels opened through {@link #channels()}, stops every capture, releases every buffer, mapping,
     * CPU access and attachment still held, then closes the exporters and device nodes, last opened first. A
     * failure to close one is logged and the others are closed still. Idempotent.
     */
    @Override
    public void close() {
        List<FrameSource> sources;
        List<AutoCloseable> toClose = new ArrayList<>();
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            sources = List.copyOf(frameSources.values());
            while (!resources.isEmpty()) {
                toClose.add(resources.pop());
            }
        }
        closeQuietly(channels);
        for (FrameSource s : sources) {
            closeQuietly(s);
        }
        scope.close();
        for (AutoCloseable r : toClose) {
            closeQuietly(r);
        }
        registry.deactivate();
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "closing " + c + ": " + e);
        }
    }

    private synchronized void addExporter(DmaBufExporter exporter, Map<String, Object> properties) {
        Map<String, Object> p = new LinkedHashMap<>(properties);
        p.put("service.id", ++serviceIds);
        registry.bindExporter(exporter, p);
        resources.push(() -> registry.unbindExporter(exporter, p));
    }

    private synchronized void add(Map<String, ?> map, String kind, String name, Object what) {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) map;
        if (m.containsKey(name)) {
            throw new InvalidArgumentException("activate", "a " + kind + " named '" + name + "' exists already");
        }
        m.put(name, what);
    }

    private synchronized void fallback(String message) {
        fallbacks.add(message);
    }

    private synchronized void onClose(AutoCloseable resource) {
        resources.push(resource);
    }

    /** One provider's view while it opens one configuration. */
    private final class Site implements ExporterSite {
        private final ExporterConfiguration configuration;
        private final String label;

        Site(ExporterConfiguration configuration) {
            this.configuration = configuration;
            this.label = configuration.pid() + (configuration.factory() ? "~" + configuration.name() : "");
        }

        @Override
        public String name() {
            return configuration.factory() ? configuration.name() : configuration.pid();
        }

        @Override
        public <A> A config(Class<A> type) {
            return ComponentProperties.of(type, configuration.properties(), label);
        }

        @Override
        public DmaBufRegistry registry() {
            return DmaBufs.this;
        }

        @Override
        public void addExporter(DmaBufExporter exporter, Map<String, Object> properties) {
            DmaBufs.this.addExporter(exporter, properties);
        }

        @Override
        public void addImporter(ImporterDevice device, Map<String, Object> properties) {
            add(importers, "importer device", name(), device);
        }

        @Override
        public void addFrameSource(FrameSource source, Map<String, Object> properties) {
            add(frameSources, "frame source", name(), source);
        }

        @Override
        public void fallback(String message) {
            DmaBufs.this.fallback(label + ": " + message);
        }

        @Override
        public void onClose(AutoCloseable resource) {
            DmaBufs.this.onClose(resource);
        }
    }

    /**
     * What to open: the configurations and the providers. Not thread-safe: one thread builds.
     */
    public static final class Builder {
        private String owner = "plain-java";
        private final Map<String, ExporterConfiguration> configurations = new LinkedHashMap<>();
        private final List<ExporterProvider> providers = new ArrayList<>();
        private boolean discover = true;

        private Builder() {
        }

        /**
         * The name bufinfo shows as the owner of this program's buffers.
         *
         * @param name the name; {@code plain-java} if not set
         * @return this builder
         */
        public Builder owner(String name) {
            this.owner = java.util.Objects.requireNonNull(name, "name");
            return this;
        }

        /**
         * Adds a configuration, or replaces the one of the same PID (and name), as ConfigAdmin's update does.
         *
         * @param pid a PID ({@code org.dmabuf.exporter.heap}), or a factory PID and a name joined by {@code ~}
         *        ({@code org.dmabuf.exporter.drm~card0}), as the {@code .cfg} file names have it
         * @param properties the properties, with the components' names ({@code dev.path}, {@code dmaheap.enabled},
         *        ...): Strings, Numbers, Booleans
         * @return this builder
         */
        public Builder configure(String pid, Map<String, ?> properties) {
            int tilde = pid.indexOf('~');
            return configure(tilde < 0 ? new ExporterConfiguration(pid, null, Map.copyOf(properties))
                    : new ExporterConfiguration(pid.substring(0, tilde), pid.substring(tilde + 1),
                            Map.copyOf(properties)));
        }

        /**
         * Adds a configuration, or replaces the one of the same PID and name.
         *
         * @param configuration the configuration
         * @return this builder
         */
        public Builder configure(ExporterConfiguration configuration) {
            configurations.put(configuration.pid() + "~" + configuration.name(), configuration);
            return this;
        }

        /**
         * Adds every {@code *.cfg} file of a folder, in the gateway's format.
         *
         * @param folder the folder
         * @return this builder
         * @throws DmaBufException naming the folder or file and the errno ({@code ENOENT} for a missing folder)
         *         when one cannot be read; {@code EINVAL} for a file that is not properties
         */
        public Builder configurationFolder(Path folder) {
            List<Path> files;
            try {
                files = ExporterConfiguration.files(folder);
            } catch (IOException e) {
                throw new DmaBufException("configurationFolder", errno(e), folder + ": " + e, e);
            }
            for (Path f : files) {
                try {
                    configure(ExporterConfiguration.read(f));
                } catch (IOException e) {
                    throw new DmaBufException("configurationFolder", errno(e), f + ": " + e, e);
                } catch (IllegalArgumentException e) {
                    throw new InvalidArgumentException("configurationFolder", e.getMessage()); // names the file
                }
            }
            return this;
        }

        private static String errno(IOException e) {
            if (e instanceof java.nio.file.NoSuchFileException) {
                return "ENOENT";
            }
            if (e instanceof java.nio.file.AccessDeniedException) {
                return "EACCES";
            }
            if (e instanceof java.nio.file.NotDirectoryException) {
                return "ENOTDIR";
            }
            return "EIO";
        }

        /**
         * Adds a provider besides those found with {@link ServiceLoader}; one of the same PID replaces the one found.
         *
         * @param provider the provider
         * @return this builder
         */
        public Builder provider(ExporterProvider provider) {
            providers.add(java.util.Objects.requireNonNull(provider, "provider"));
            return this;
        }

        /**
         * Whether to find providers with {@link ServiceLoader} (the default), or use only those added.
         *
         * @param discover false to use only {@link #provider} ones
         * @return this builder
         */
        public Builder discover(boolean discover) {
            this.discover = discover;
            return this;
        }

        /**
         * Opens the registry: each provider with each of its configurations (a provider that needs none, as the
         * heap exporters, also without), providers in PID order, configurations in the order given. A
         * configuration whose PID no provider has is reported in {@link DmaBufs#fallbacks()} and logged.
         *
         * @return the registry, owned by the caller
         * @throws DmaBufException the first failure of a provider (naming the configuration, the property or node,
         *         the call and errno), with everything opened before closed; {@code EINVAL} for a factory PID
         *         configured without a name or a PID with one
         */
        public DmaBufs open() {
            Map<String, ExporterProvider> byPid = new TreeMap<>();
            if (discover) {
                for (ExporterProvider p : ServiceLoader.load(ExporterProvider.class)) {
                    byPid.putIfAbsent(p.pid(), p);
                }
            }
            for (ExporterProvider p : providers) {
                byPid.put(p.pid(), p);
            }
            BufferRegistry registry = new BufferRegistry();
            List<ExporterConfiguration> registryConf = configurations.values().stream()
                    .filter(c -> c.pid().equals(BufferRegistry.PID)).toList();
            for (ExporterConfiguration c : registryConf) {
                registry.configure(ComponentProperties.of(BufferRegistry.Config.class, c.properties(), c.pid()));
            }
            DmaBufs d = new DmaBufs(registry, owner);
            try {
                for (ExporterProvider p : byPid.values()) {
                    List<ExporterConfiguration> mine = configurations.values().stream()
                            .filter(c -> c.pid().equals(p.pid())).toList();
                    for (ExporterConfiguration c : mine) {
                        if (c.factory() != p.factory()) {
                            throw new InvalidArgumentException("activate", c.pid() + (c.factory() ? "~" + c.name()
                                    : "") + ": " + c.pid() + (p.factory() ? " is a factory PID: name the "
                                    + "configuration, " + c.pid() + "~NAME" : " is not a factory PID: no ~NAME"));
                        }
                        open(p, d.new Site(c), c);
                    }
                    if (mine.isEmpty() && p.openWithoutConfiguration()) {
                        ExporterConfiguration none = new ExporterConfiguration(p.pid(), null, Map.of());
                        open(p, d.new Site(none), none);
                    }
                }
                for (ExporterConfiguration c : configurations.values()) {
                    if (!byPid.containsKey(c.pid()) && !c.pid().equals(BufferRegistry.PID)) {
                        String m = c.pid() + (c.factory() ? "~" + c.name() : "") + ": no exporter provider has PID "
                                + c.pid() + " (is its jar on the class path or module path?): configuration not used";
                        LOG.log(System.Logger.Level.WARNING, m);
                        d.fallback(m);
                    }
                }
            } catch (RuntimeException | Error e) { // an Error too: a provider whose jar misses a class
                d.close();
                throw e;
            }
            return d;
        }

        /**
         * Opens one instance; a provider's untyped failure becomes a typed one naming the provider and the
         * configuration ({@code EIO}), as the registry reports an exporter's untyped failure.
         */
        private static void open(ExporterProvider p, ExporterSite site, ExporterConfiguration c) {
            try {
                p.open(site);
            } catch (DmaBufException e) { // typed already (LinuxException is one)
                throw e;
            } catch (RuntimeException e) {
                throw new DmaBufException("activate", "EIO", c.pid()
                        + (c.factory() ? "~" + c.name() : "") + ": provider " + p.getClass().getName()
                        + " failed: " + e, e);
            }
        }
    }

    @Override
    public String toString() {
        return "DmaBufs" + exporters().stream().map(org.dmabuf.api.ExporterInfo::name).toList();
    }
}

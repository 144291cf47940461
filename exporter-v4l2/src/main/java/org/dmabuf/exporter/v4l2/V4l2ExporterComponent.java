package org.dmabuf.exporter.v4l2;

import java.time.Duration;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.Frame;
import org.dmabuf.api.FrameSource;
import org.dmabuf.spi.DmaBufExporter;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * One V4L2 capture node, configured by a factory configuration (PID {@value #PID}): sets the format, exports the
 * driver's buffers and registers them as a {@link DmaBufExporter} and as a {@link FrameSource} whose capture
 * starts on the first {@code next}. The services are registered here rather than by SCR so that their properties
 * carry the driver's name and the format it set. A node that is not V4L2, cannot capture, or does not capture the
 * configured format, or a pixel format the table ({@link org.dmabuf.api.PixelFormat}) does not have, fails
 * activation with the path, the call and errno (and the formats the node captures).
 *
 * <p>Threads: SCR calls activate and deactivate; the services are thread-safe.
 */
@Component(immediate = true, configurationPid = V4l2ExporterComponent.PID,
        configurationPolicy = ConfigurationPolicy.REQUIRE, service = {})
@Designate(ocd = V4l2ExporterComponent.Config.class, factory = true)
public final class V4l2ExporterComponent {
    /** The factory PID. */
    public static final String PID = "org.dmabuf.exporter.v4l2";

    /** One capture node. */
    @ObjectClassDefinition(name = "dmabuf-osgi V4L2 capture device")
    public @interface Config {
        /** @return the node, for example /dev/video0 */
        @AttributeDefinition(name = "Device node")
        String dev_path();

        /** @return the width asked for; the driver may adjust it */
        @AttributeDefinition(name = "Width")
        int width() default 640;

        /** @return the height asked for; the driver may adjust it */
        @AttributeDefinition(name = "Height")
        int height() default 480;

        /**
         * @return the V4L2 pixel format (its fourcc, as {@code v4l2-ctl --list-formats} prints it), for example
         *         {@code YUYV}, {@code NV12} or {@code NM12}: one of the table's ({@code org.dmabuf.api.PixelFormat})
         */
        @AttributeDefinition(name = "Pixel format", description = "The V4L2 fourcc, for example YUYV, NV12, NM12 "
                + "(NV12M) or YM12 (YUV420M)")
        String pixel_format() default "YUYV";

        /** @return how many buffers to request */
        @AttributeDefinition(name = "Buffer count")
        int buffer_count() default 4;

        /** @return the exporter's service.ranking */
        @AttributeDefinition(name = "Ranking")
        int service_ranking() default 50;

        /**
         * @return empty to capture into the driver's own buffers (and export them); an exporter's name (for
         *         example {@code system}) to capture straight into that exporter's buffers with
         *         {@code V4L2_MEMORY_DMABUF}, in which case the node exports nothing
         */
        @AttributeDefinition(name = "Capture into", description = "An exporter whose buffers the device fills "
                + "(V4L2_MEMORY_DMABUF); empty for the driver's own MMAP buffers")
        String capture_into() default "";
    }

    /** The registry the frames' handles belong to (this bundle's). */
    @Reference
    private DmaBufRegistry registry;

    private final AtomicReference<Owned> owned = new AtomicReference<>();

    /**
     * One capture node opened, without a framework: the device, its exporter (none when capturing into another
     * exporter's buffers), the frame source, and the service properties each is registered with. What activation
     * registers, and what the plain-Java entry point adds ({@link V4l2ExporterProvider}).
     */
    record Opened(V4l2Device device, V4l2Exporter exporter, LazySource source, Map<String, Object> exporterProperties,
            Map<String, Object> sourceProperties) implements AutoCloseable {
        /**
         * Opens the configured node.
         *
         * @param config the configuration
         * @param registry the registry the frames' handles belong to
         * @return the device, exporter and source
         * @throws org.dmabuf.api.InvalidArgumentException ({@code EINVAL}) for a configuration no node could serve
         *         ({@link #check}) or an absent {@code dev.path}
         * @throws org.dmabuf.linux.LinuxException naming the node, the call and errno; nothing stays open
         */
        static Opened of(Config config, DmaBufRegistry registry) {
            check(config);
            V4l2Device device = new V4l2Device(config.dev_path());
            V4l2Exporter exporter = null;
            LazySource source;
            Map<String, Object> exporterProps = null;
            try {
                int fourcc = BufferFormat.fourcc(config.pixel_format());
                if (config.capture_into().isEmpty()) {
                    V4l2Exporter ex = new V4l2Exporter(device, config.width(), config.height(), fourcc,
                            config.buffer_count());
                    exporter = ex;
                    source = new LazySource(ex.format(), () -> ex.capture(registry));
                    exporterProps = ex.properties(config.service_ranking());
                } else {
                    BufferFormat f = device.setFormat(config.width(), config.height(), fourcc);
                    source = new LazySource(f, () -> V4l2Capture.into(device, f, registry, config.capture_into(),
                            config.buffer_count()));
                }
            } catch (RuntimeException ex) {
                if (exporter != null) {
                    exporter.close();
                }
                device.close();
                throw ex;
            }
            Map<String, Object> sp = new LinkedHashMap<>();
            sp.put(DmaBufExporter.DEV_PATH, config.dev_path());
            sp.put("v4l2.driver", device.driver());
            sp.put("v4l2.format", config.pixel_format() + " " + source.format().width() + "x"
                    + source.format().height());
            sp.put("v4l2.layout", source.format().describe());
            if (!config.capture_into().isEmpty()) {
                sp.put("v4l2.capture.into", config.capture_into());
            }
            return new Opened(device, exporter, source, exporterProps, sp);
        }

        /** Stops capturing for good, then closes the exporter and the node. */
        @Override
        public void close() {
            source.shutdown();
            if (exporter != null) {
                exporter.close();
            }
            device.close();
        }
    }

    private record Owned(Opened opened, ServiceRegistration<?> exporterReg, ServiceRegistration<?> sourceReg) {
        void close() {
            for (ServiceRegistration<?> r : new ServiceRegistration<?>[] {sourceReg, exporterReg}) {
                try {
                    if (r != null) {
                        r.unregister();
                    }
                } catch (IllegalStateException ignored) {
                    // already gone with the bundle
                }
            }
            opened.close();
        }
    }

    @Activate
    void activate(BundleContext context, Config config) {
        Opened o = Opened.of(config, registry);
        ServiceRegistration<?> e = null;
        try {
            if (o.exporter() != null) {
                e = context.registerService(DmaBufExporter.class, o.exporter(),
                        new Hashtable<>(o.exporterProperties()));
            }
            ServiceRegistration<?> s = context.registerService(FrameSource.class, o.source(),
                    new Hashtable<>(o.sourceProperties()));
            owned.set(new Owned(o, e, s));
        } catch (RuntimeException ex) {
            new Owned(o, e, null).close();
            throw ex;
        }
    }

    /**
     * Refuses a configuration no node could serve, before the node is opened.
     *
     * @throws org.dmabuf.api.InvalidArgumentException ({@code EINVAL}) naming the node and the value: a width or
     *         height or buffer count below 1, a pixel format that is not four characters
     */
    static void check(Config config) {
        if (config.dev_path() == null) {
            throw new org.dmabuf.api.InvalidArgumentException("activate", PID + ": property dev.path is required "
                    + "(it has no default) and is absent");
        }
        if (config.width() < 1 || config.height() < 1) {
            throw new org.dmabuf.api.InvalidArgumentException("activate", PID + " " + config.dev_path() + ": width "
                    + config.width() + " and height " + config.height() + " must be at least 1");
        }
        if (config.buffer_count() < 1) {
            throw new org.dmabuf.api.InvalidArgumentException("activate", PID + " " + config.dev_path()
                    + ": buffer.count " + config.buffer_count() + " must be at least 1");
        }
        if (config.pixel_format().length() != 4) {
            throw new org.dmabuf.api.InvalidArgumentException("activate", PID + " " + config.dev_path()
                    + ": pixel.format '" + config.pixel_format() + "' is not a four-character V4L2 fourcc");
        }
    }

    @Deactivate
    void deactivate() {
        Owned o = owned.getAndSet(null);
        if (o != null) {
            o.close();
        }
    }

    /**
     * A frame source that starts capturing on the first {@code next}. The service is shared: {@link #close()} stops
     * the current capture and a later {@code next} starts a new one; {@link #shutdown()}, at deactivation, stops it
     * for good ({@code next} throws). Thread-safe.
     */
    static final class LazySource implements FrameSource {
        private final BufferFormat format;
        private final java.util.function.Supplier<FrameSource> start;
        private FrameSource capture;
        private boolean closed;

        LazySource(BufferFormat format, java.util.function.Supplier<FrameSource> start) {
            this.format = format;
            this.start = start;
        }

        private synchronized FrameSource capture() {
            if (closed) {
                throw new org.dmabuf.api.DmaBufException("next", null, "the frame source is closed");
            }
            if (capture == null) {
                capture = start.get();
            }
            return capture;
        }

        @Override
        public Frame next(Duration timeout) {
            return capture().next(timeout);
        }

        @Override
        public BufferFormat format() {
            return format;
        }

        @Override
        public synchronized long framesCaptured() {
            return capture == null ? 0 : capture.framesCaptured();
        }

        @Override
        public synchronized long framesDropped() {
            return capture == null ? 0 : capture.framesDropped();
        }

        /** Stops the current capture, if any; the next {@code next} starts another. */
        @Override
        public synchronized void close() {
            if (capture != null) {
                FrameSource c = capture;
                capture = null;
                c.close();
            }
        }

        /** Stops capturing for good. */
        synchronized void shutdown() {
            closed = true;
            close();
        }
    }
}

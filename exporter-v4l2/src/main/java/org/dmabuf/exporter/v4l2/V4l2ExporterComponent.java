package org.dmabuf.exporter.v4l2;

import java.time.Duration;
import java.util.Hashtable;
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
 * configured format fails activation with the path, the call and errno.
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

        /** @return the fourcc, for example YUYV */
        @AttributeDefinition(name = "Pixel format")
        String pixel_format() default "YUYV";

        /** @return how many buffers to request */
        @AttributeDefinition(name = "Buffer count")
        int buffer_count() default 4;

        /** @return the exporter's service.ranking */
        @AttributeDefinition(name = "Ranking")
        int service_ranking() default 50;
    }

    /** The registry the frames' handles belong to (this bundle's). */
    @Reference
    private DmaBufRegistry registry;

    private final AtomicReference<Owned> owned = new AtomicReference<>();

    private record Owned(V4l2Device device, V4l2Exporter exporter, LazySource source,
            ServiceRegistration<?> exporterReg, ServiceRegistration<?> sourceReg) {
    }

    @Activate
    void activate(BundleContext context, Config config) {
        V4l2Device device = new V4l2Device(config.dev_path());
        V4l2Exporter exporter;
        try {
            exporter = new V4l2Exporter(device, config.width(), config.height(),
                    BufferFormat.fourcc(config.pixel_format()), config.buffer_count());
        } catch (RuntimeException e) {
            device.close();
            throw e;
        }
        Hashtable<String, Object> props = new Hashtable<>(exporter.properties(config.service_ranking()));
        ServiceRegistration<?> e = context.registerService(DmaBufExporter.class, exporter, props);
        LazySource source = new LazySource(exporter, registry);
        Hashtable<String, Object> sp = new Hashtable<>();
        sp.put(DmaBufExporter.DEV_PATH, config.dev_path());
        sp.put("v4l2.driver", device.driver());
        sp.put("v4l2.format", exporter.format().fourccName() + " " + exporter.format().width() + "x"
                + exporter.format().height());
        ServiceRegistration<?> s = context.registerService(FrameSource.class, source, sp);
        owned.set(new Owned(device, exporter, source, e, s));
    }

    @Deactivate
    void deactivate() {
        Owned o = owned.getAndSet(null);
        if (o != null) {
            for (ServiceRegistration<?> r : new ServiceRegistration<?>[] {o.sourceReg, o.exporterReg}) {
                try {
                    r.unregister();
                } catch (IllegalStateException ignored) {
                    // already gone with the bundle
                }
            }
            o.source.close();
            o.exporter.close();
            o.device.close();
        }
    }

    /** A frame source that starts capturing on the first {@code next}. Thread-safe. */
    static final class LazySource implements FrameSource {
        private final V4l2Exporter exporter;
        private final DmaBufRegistry registry;
        private FrameSource capture;

        LazySource(V4l2Exporter exporter, DmaBufRegistry registry) {
            this.exporter = exporter;
            this.registry = registry;
        }

        private synchronized FrameSource capture() {
            if (capture == null) {
                capture = exporter.capture(registry);
            }
            return capture;
        }

        @Override
        public Frame next(Duration timeout) {
            return capture().next(timeout);
        }

        @Override
        public BufferFormat format() {
            return exporter.format();
        }

        @Override
        public synchronized long framesCaptured() {
            return capture == null ? 0 : capture.framesCaptured();
        }

        @Override
        public synchronized long framesDropped() {
            return capture == null ? 0 : capture.framesDropped();
        }

        @Override
        public synchronized void close() {
            if (capture != null) {
                capture.close();
                capture = null;
            }
        }
    }
}

package org.dmabuf.gateway;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntConsumer;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferChannels;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.ExporterInfo;
import org.dmabuf.api.Frame;
import org.dmabuf.api.FrameSource;
import org.dmabuf.api.SyncDirection;
import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * The gateway's main job, run when the launcher was started with {@code --run}: a frame pipeline. A producer (a
 * V4L2 {@link FrameSource} when one is configured, otherwise the built-in test pattern in buffers from the best
 * exporter) feeds frames; every Nth frame is mapped under begin/end CPU access and turned into a JPEG thumbnail in
 * the output folder; every frame is offered on a Unix socket to the consumers connected there. The first frame's
 * fd is shared and turned back into a buffer with {@code registry.get(fd)} (it must be the same inode); test-pattern
 * frames are checked under the same READ access the thumbnail is made in. Progress on the console, the time from
 * the launcher's start to the first buffer, a bufinfo summary at the end, and the exit status reported to the
 * launcher.
 *
 * <p>Threads: SCR activates it; the pipeline runs on its own thread and a second one accepts consumers;
 * {@link #deactivate()} interrupts both.
 */
@Component(immediate = true)
public final class MainJob {
    static final String FRAMES = "dmabuf.gateway.frames";
    static final String EVERY = "dmabuf.gateway.thumbnail.every";
    static final String OUTPUT = "dmabuf.gateway.output";
    static final String SOCKET = "dmabuf.gateway.socket";
    static final String CONSUMERS = "dmabuf.gateway.consumers";
    static final String SOURCE = "dmabuf.gateway.source";

    private final DmaBufRegistry registry;
    private final BufferChannels channels;
    private final BundleContext context;
    private final PrintStream out = System.out;
    private final List<BufferChannel> consumers = new CopyOnWriteArrayList<>();
    private volatile Thread thread;

    /**
     * Starts the job if the launcher asked for it.
     *
     * @param registry this bundle's registry
     * @param channels this bundle's channels
     * @param context this bundle's context
     */
    @Activate
    public MainJob(@Reference DmaBufRegistry registry, @Reference BufferChannels channels, BundleContext context) {
        this.registry = registry;
        this.channels = channels;
        this.context = context;
        if (Boolean.parseBoolean(context.getProperty(Main.RUN))) {
            thread = new Thread(this::run, "dmabuf-gateway-job");
            thread.start();
        }
    }

    @Deactivate
    void deactivate() throws InterruptedException {
        Thread t = thread;
        if (t != null) {
            t.interrupt();
            t.join(10_000);
        }
    }

    private String prop(String key, String dflt) {
        String v = context.getProperty(key);
        return v == null || v.isEmpty() ? dflt : v;
    }

    private void run() {
        int status;
        try {
            status = pipeline();
        } catch (InterruptedException e) {
            status = 1;
            out.println("dmabuf-gateway: FAILED: interrupted");
        } catch (Exception e) {
            status = 1;
            out.println("dmabuf-gateway: FAILED: " + e.getMessage());
        }
        report(status);
    }

    private int pipeline() throws Exception {
        int frames = Integer.parseInt(prop(FRAMES, "30"));
        int every = Math.max(1, Integer.parseInt(prop(EVERY, "10")));
        int wantConsumers = Integer.parseInt(prop(CONSUMERS, "0"));
        Path output = Path.of(prop(OUTPUT, "thumbnails"));
        Path socket = Path.of(prop(SOCKET, "run/frames.sock"));
        Files.createDirectories(output);

        List<ExporterInfo> exporters = registry.exporters();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (exporters.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(20); // exporter bundles may still be starting; bounded by the deadline
            exporters = registry.exporters();
        }
        if (exporters.isEmpty()) {
            out.println("dmabuf-gateway: FAILED: no exporter registered within 10 s (is org.dmabuf.exporter.heap "
                    + "active?)");
            return 1;
        }
        out.println("exporters: " + String.join(", ", exporters.stream()
                .map(e -> e.name() + " (" + e.kind() + ", ranking " + e.ranking() + ")").toList()));

        String mode = prop(SOURCE, "auto");
        FrameSource camera = "pattern".equals(mode) ? null : cameraService();
        long cameraDeadline = System.nanoTime() + 30_000_000_000L;
        while (camera == null && "camera".equals(mode)) {
            if (System.nanoTime() > cameraDeadline) {
                out.println("dmabuf-gateway: FAILED: --source camera, but no V4L2 camera (FrameSource) was configured "
                        + "within 30 s: add a org.dmabuf.exporter.v4l2~NAME.cfg to the conf folder");
                return 1;
            }
            Thread.sleep(50); // the camera's component activates from ConfigAdmin; bounded by the deadline
            camera = cameraService();
        }
        PatternSource pattern = camera == null ? new PatternSource(registry) : null;
        FrameSource source = camera != null ? camera : pattern;
        out.println("source: " + (camera != null ? "V4L2 camera " + source.format().fourccName() + " "
                + source.format().width() + "x" + source.format().height()
                : "test pattern " + PatternSource.WIDTH + "x" + PatternSource.HEIGHT + " XR24 in buffers from "
                        + pattern.exporter()));
        long startNanos = Long.parseLong(context.getProperty(Main.START));
        try (ChannelListener listener = channels.listen(socket, ChannelOptions.sameUser())) {
            out.println("frames offered on " + listener.path());
            Thread acceptor = new Thread(() -> accept(listener), "dmabuf-gateway-accept");
            acceptor.setDaemon(true);
            acceptor.start();
            long waitUntil = System.nanoTime() + 60_000_000_000L;
            while (consumers.size() < wantConsumers) {
                if (System.nanoTime() > waitUntil) {
                    out.println("dmabuf-gateway: FAILED: " + consumers.size() + " of " + wantConsumers
                            + " consumers connected within 60 s");
                    return 1;
                }
                Thread.sleep(20); // consumers are other processes; bounded by the deadline
            }
            int thumbnails = 0;
            int verified = 0;
            long pipelineStart = System.nanoTime();
            for (int i = 0; i < frames; i++) {
                try (Frame f = source.next(Duration.ofSeconds(10))) {
                    if (f == null) {
                        out.println("dmabuf-gateway: FAILED: no frame from the source within 10 s");
                        return 1;
                    }
                    if (i == 0) {
                        out.printf("first frame: inode %d, %d bytes, %.0f ms after start%n", f.buffer().inode(),
                                f.buffer().size(), (System.nanoTime() - startNanos) / 1e6);
                        String shared = shareAndGetBack(f.buffer());
                        if (shared != null) {
                            out.println("dmabuf-gateway: FAILED: " + shared);
                            return 1;
                        }
                    }
                    if (i % every == 0) {
                        Path jpg = output.resolve(String.format("frame-%04d.jpg", i));
                        int h;
                        try (CpuAccess a = f.buffer().beginCpuAccess(SyncDirection.READ)) {
                            String wrong = pattern == null ? null : PatternSource.verify(a, f.sequence());
                            if (wrong != null) {
                                out.println("dmabuf-gateway: FAILED: the test pattern read back under "
                                        + "beginCpuAccess(READ): " + wrong);
                                return 1;
                            }
                            verified += pattern == null ? 0 : 1;
                            h = Thumbnails.write(a, f.format(), jpg);
                        }
                        thumbnails++;
                        out.printf("frame %d/%d (sequence %d): thumbnail %s (%dx%d), %d consumer(s)%n", i + 1,
                                frames, f.sequence(), jpg, Math.min(Thumbnails.WIDTH, f.format().width()), h,
                                consumers.size());
                    }
                    for (BufferChannel c : consumers) {
                        try {
                            c.send(f.buffer(), f.sequence());
                        } catch (RuntimeException e) {
                            out.println("consumer pid " + c.peer().pid() + " left: " + e.getMessage());
                            consumers.remove(c);
                            c.close();
                        }
                    }
                }
            }
            double secs = (System.nanoTime() - pipelineStart) / 1e9;
            out.printf("done: %d frames in %.2f s (%.1f fps), %d thumbnails in %s, %d consumer(s), %d dropped%n",
                    frames, secs, frames / secs, thumbnails, output, consumers.size(), source.framesDropped());
            if (pattern != null) {
                out.println("test pattern verified under beginCpuAccess(READ) in " + verified + " of " + thumbnails
                        + " thumbnail frames");
            }
            printBufinfo("bufinfo");
        } finally {
            consumers.forEach(BufferChannel::close);
            consumers.clear();
            if (pattern != null) {
                pattern.close();
            } else {
                source.close();
            }
        }
        printBufinfo("bufinfo after release");
        return registry.bufinfo().stream().anyMatch(i -> i.owner().startsWith("org.dmabuf.gateway")) ? 1 : 0;
    }

    /**
     * Shares the buffer's fd and turns it back into a buffer, as a receiver of the fd would.
     *
     * @return null if the registry gave back the same buffer, else what went wrong
     */
    private String shareAndGetBack(DmaBuf buf) {
        int fd = buf.fd();
        try (DmaBuf again = registry.get(fd)) {
            if (again.inode() != buf.inode()) {
                return "registry.get(" + fd + ") gave inode " + again.inode() + ", not the shared buffer's "
                        + buf.inode();
            }
            out.printf("shared fd %d, registry.get(fd): the same buffer (inode %d, refcount %d)%n", fd,
                    again.inode(), again.refCount());
        }
        return null;
    }

    private void accept(ChannelListener listener) {
        try {
            while (!Thread.currentThread().isInterrupted()) {
                BufferChannel c = listener.accept(Duration.ofMillis(200));
                if (c != null) {
                    consumers.add(c);
                    out.println("consumer connected: pid " + c.peer().pid() + ", uid " + c.peer().uid());
                }
            }
        } catch (RuntimeException e) {
            // the listener was closed at the end of the pipeline
        }
    }

    private FrameSource cameraService() {
        ServiceReference<FrameSource> ref = context.getServiceReference(FrameSource.class);
        return ref == null ? null : context.getService(ref);
    }

    private void printBufinfo(String title) {
        List<BufferInfo> infos = registry.bufinfo();
        out.println(title + ": " + infos.size() + " buffer(s)");
        for (BufferInfo i : infos) {
            out.printf("  inode %d  size %d  exporter %s  kind %s  refcount %d  name %s  owner %s%n", i.inode(),
                    i.size(), i.exporter(), i.kind(), i.refCount(), i.name(), i.owner());
        }
    }

    private void report(int status) {
        try {
            for (ServiceReference<IntConsumer> ref : context.getServiceReferences(IntConsumer.class,
                    "(" + Main.EXIT + "=true)")) {
                IntConsumer exit = context.getService(ref);
                if (exit != null) {
                    exit.accept(status);
                    context.ungetService(ref);
                    return;
                }
            }
        } catch (InvalidSyntaxException | IllegalStateException e) {
            out.println("dmabuf-gateway: cannot report the job's status: " + e);
        }
    }
}

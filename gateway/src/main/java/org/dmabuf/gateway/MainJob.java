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
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
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
import org.osgi.util.tracker.ServiceTracker;

/**
 * The gateway's main job, run when the launcher was started with {@code --run}: a frame pipeline. A producer (a
 * V4L2 {@link FrameSource} when one is configured, otherwise the built-in test pattern, in the pixel format named
 * with {@code --format}, in buffers from the best exporter, or the one named with {@code --exporter}) feeds frames;
 * every Nth frame has each of its buffers mapped under begin/end CPU access and is turned into a JPEG thumbnail in
 * the output folder; every frame is offered on a Unix socket to the
 * consumers connected there, each through its own bounded hand-off ({@link ConsumerFeed}), so that a consumer that
 * stops reading loses frames (counted and reported) but never holds up the pipeline. The first frame's fd is shared
 * and turned back into a buffer with {@code registry.get(fd)} (it must be the same buffer); test-pattern frames are
 * checked under the same READ access the thumbnail is made in. Progress on the console, the time from the
 * launcher's start to the first buffer, a bufinfo summary at the end, and the exit status reported to the launcher.
 * While frames flow, the pipeline's figures (frames, frames/s, drops at the source and per consumer, the latest
 * thumbnail) are a service, {@link PipelineStats}, that the status page reads from the HTTP service's threads.
 *
 * <p>What the job owns it releases on every path, setup failures included: the test pattern's buffers, the frames
 * it took from the source, the listening socket, the consumers' channels and threads, and every service it got
 * (through {@link ServiceTracker}s it opens and closes). A camera is a shared service: the job takes frames from it
 * and closes those, never the camera itself.
 *
 * <p>Threads: SCR activates and deactivates it. The job owns one pipeline thread, which owns the thread that accepts
 * consumers and, through each {@link ConsumerFeed}, one sender thread per consumer; the pipeline thread stops and
 * joins them before it ends. {@link #deactivate()} interrupts the pipeline thread and joins it.
 */
@Component(immediate = true)
public final class MainJob {
    static final String FRAMES = "dmabuf.gateway.frames";
    static final String EVERY = "dmabuf.gateway.thumbnail.every";
    static final String OUTPUT = "dmabuf.gateway.output";
    static final String SOCKET = "dmabuf.gateway.socket";
    static final String CONSUMERS = "dmabuf.gateway.consumers";
    static final String SOURCE = "dmabuf.gateway.source";
    /** Framework property: the exporter of the test pattern's buffers (default: the best one). */
    static final String EXPORTER = "dmabuf.gateway.exporter";
    /** Framework property: the test pattern's pixel format (a {@link org.dmabuf.api.PixelFormat} name; XBGR32). */
    static final String FORMAT = "dmabuf.gateway.format";
    /** Framework property: the test pattern's size, {@code WIDTHxHEIGHT} (default 320x240). */
    static final String SIZE = "dmabuf.gateway.size";
    /** Framework property: what the test pattern writes: {@code bars} (colour bars) or {@code bytes}. */
    static final String PATTERN = "dmabuf.gateway.pattern";
    /** Framework property: the stride alignment the test pattern's lines are laid out for (default 1: tight). */
    static final String STRIDE_ALIGN = "dmabuf.gateway.stride.align";
    /** Framework property: the test pattern's buffers' name, numbered per buffer (default {@code pattern}). */
    static final String NAME = "dmabuf.gateway.pattern.name";
    /** Framework property: the test pattern's frame rate (default 30; 0: as fast as it can). */
    static final String FPS = "dmabuf.gateway.fps";
    /**
     * Framework property: how many frames may wait for each consumer or be held by it (sent, not yet released)
     * before frames are dropped for it (default 8).
     */
    static final String QUEUE = "dmabuf.gateway.consumer.queue";

    /** How long one send to a consumer may block at the end of the run before the consumer is disconnected. */
    static final Duration STALLED = Duration.ofSeconds(2);
    private static final long JOIN_MILLIS = 30_000;

    private final DmaBufRegistry registry;
    private final BufferChannels channels;
    private final BundleContext context;
    private final PrintStream out = System.out;
    private final List<ConsumerFeed> consumers = new CopyOnWriteArrayList<>();
    private final Object connected = new Object();
    private final Thread thread;
    private volatile boolean stopping;

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
        } else {
            thread = null;
        }
    }

    /** Stops the pipeline (it releases everything it holds on its way out) and joins its thread. */
    @Deactivate
    void deactivate() throws InterruptedException {
        stopping = true;
        if (thread != null) {
            thread.interrupt();
            thread.join(JOIN_MILLIS);
            if (thread.isAlive()) {
                out.println("dmabuf-gateway: the job's thread did not end within " + JOIN_MILLIS / 1000
                        + " s of the stop; its stack: " + java.util.Arrays.toString(thread.getStackTrace()));
            }
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
        int fps = Integer.parseInt(prop(FPS, "30"));
        int queue = Math.max(1, Integer.parseInt(prop(QUEUE, "8")));
        String exporter = prop(EXPORTER, null);
        org.dmabuf.api.PixelFormat patternFormat = PatternSource.pixelFormat(prop(FORMAT, "XBGR32"));
        org.dmabuf.api.DeviceConstraints patternConstraints = org.dmabuf.api.DeviceConstraints.builder()
                .strideAlignment(Integer.parseInt(prop(STRIDE_ALIGN, "1"))).build();
        String[] size = prop(SIZE, PatternSource.WIDTH + "x" + PatternSource.HEIGHT).split("x");
        int width = Integer.parseInt(size[0]);
        int height = Integer.parseInt(size[1]);
        Path output = Path.of(prop(OUTPUT, "thumbnails"));
        Path socket = Path.of(prop(SOCKET, "run/frames.sock"));
        long startNanos = Long.parseLong(prop(Main.START, Long.toString(System.nanoTime())));
        Main.step(startNanos, "job");

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
        Main.step(startNanos, "exporters");
        out.println("exporters: " + String.join(", ", exporters.stream()
                .map(e -> e.name() + " (" + e.kind() + ", ranking " + e.ranking() + ")").toList()));

        String mode = prop(SOURCE, "auto");
        // every resource below is released in reverse order on every path out, a failing setup step included
        try (Tracked<FrameSource> cameras = new Tracked<>(context, FrameSource.class)) {
            FrameSource camera = null;
            if ("camera".equals(mode)) {
                // the camera's component activates from ConfigAdmin
                camera = cameras.tracker.waitForService(30_000);
                if (camera == null) {
                    out.println("dmabuf-gateway: FAILED: --source camera, but no V4L2 camera (FrameSource) was "
                            + "configured within 30 s: add a org.dmabuf.exporter.v4l2~NAME.cfg to the conf folder");
                    return 1;
                }
            } else if (!"pattern".equals(mode)) {
                camera = cameras.tracker.getService();
            }
            try (PatternSource pattern = camera == null ? new PatternSource(registry, exporter, patternFormat,
                    width, height, patternConstraints,
                    Math.max(PatternSource.RING, wantConsumers * queue + 2), "bytes".equals(prop(PATTERN, "bars")),
                    prop(NAME, "pattern")) : null) {
                FrameSource source = camera != null ? camera : pattern;
                Main.step(startNanos, "source");
                String description = camera != null ? "V4L2 camera " + source.format().fourccName() + " "
                        + source.format().width() + "x" + source.format().height() + " ("
                        + source.format().describe() + ")"
                        : "test pattern " + width + "x" + height + " "
                                + pattern.pixelFormat() + " (" + pattern.format().describe() + ") in buffers from "
                                + pattern.exporter();
                out.println("source: " + description);
                Files.createDirectories(output);
                // closed in reverse: the acceptor stops before the consumers it added are closed
                try (ChannelListener listener = channels.listen(socket, ChannelOptions.sameUser().withReleases());
                     Feeds feeds = new Feeds();
                     Acceptor acceptor = new Acceptor(listener, queue)) {
                    out.println("frames offered on " + listener.path());
                    Main.step(startNanos, "listening");
                    if (!awaitConsumers(wantConsumers)) {
                        return 1;
                    }
                    Main.step(startNanos, "consumers");
                    int status;
                    PipelineStats stats = new PipelineStats(description, () -> consumers.stream()
                            .map(c -> new PipelineStats.ConsumerCounts(c.pid(), c.sent(), c.dropped(), c.framesOut()))
                            .toList(), System::nanoTime);
                    try (Published published = new Published(stats)) {
                        status = produce(source, pattern, frames, every, fps, output, startNanos, stats);
                    }
                    if (status != 0) {
                        return status;
                    }
                    acceptor.close(); // no consumer joins after the last frame
                    finish();
                    printBufinfo("bufinfo");
                }
            }
        }
        printBufinfo("bufinfo after release");
        // a camera's own buffers stay with the camera, which the job does not own
        long left = registry.bufinfo().stream().filter(i -> i.owner().startsWith("org.dmabuf.gateway")).count();
        out.println("buffers of the job left: " + left);
        return left > 0 ? 1 : 0;
    }

    private boolean awaitConsumers(int want) throws InterruptedException {
        long waitUntil = System.nanoTime() + 60_000_000_000L;
        synchronized (connected) {
            while (consumers.size() < want) {
                long left = waitUntil - System.nanoTime();
                if (left <= 0) {
                    out.println("dmabuf-gateway: FAILED: " + consumers.size() + " of " + want
                            + " consumers connected within 60 s");
                    return false;
                }
                java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(connected, left);
            }
        }
        return true;
    }

    private int produce(FrameSource source, PatternSource pattern, int frames, int every, int fps, Path output,
            long startNanos, PipelineStats stats) throws Exception {
        int thumbnails = 0;
        int verified = 0;
        long pipelineStart = System.nanoTime();
        long nextFrame = pipelineStart;
        for (int i = 0; i < frames; i++) {
            if (stopping || Thread.currentThread().isInterrupted()) {
                throw new InterruptedException();
            }
            if (pattern != null && fps > 0) {
                // the test pattern runs at a camera's pace; like a camera, it does not catch up in a burst when
                // the pipeline was late (the first thumbnail loads the JPEG writer, say)
                long now = System.nanoTime();
                if (nextFrame > now) {
                    java.util.concurrent.TimeUnit.NANOSECONDS.sleep(nextFrame - now);
                } else {
                    nextFrame = now;
                }
                nextFrame += 1_000_000_000L / fps;
            }
            // the pattern waits at most a frame's time for a free frame of its ring (then the frame is dropped);
            // a camera delivers at its own rate
            Duration wait = pattern == null ? Duration.ofSeconds(10)
                    : Duration.ofMillis(fps > 0 ? Math.max(1, 1000 / fps) : 100);
            try (Frame f = source.next(wait)) {
                if (f == null && pattern != null) {
                    stats.dropped(source.framesDropped());
                    continue; // every frame of the ring still held: a dropped frame, counted by the source
                }
                if (f == null) {
                    out.println("dmabuf-gateway: FAILED: no frame from the source within 10 s");
                    return 1;
                }
                stats.frame(source.framesDropped());
                if (i == 0) {
                    Main.step(startNanos, "first frame");
                    out.printf("first frame: inode %d, %d bytes, %.0f ms after start%n", f.buffer().inode(),
                            f.buffer().size(), (System.nanoTime() - startNanos) / 1e6);
                    String shared = shareAndGetBack(f.buffer());
                    if (shared != null) {
                        out.println("dmabuf-gateway: FAILED: " + shared);
                        return 1;
                    }
                }
                // the consumers first: a thumbnail (the first one loads the JPEG writer) must not delay their frame
                for (ConsumerFeed c : consumers) {
                    if (c.failure() != null) {
                        leave(c);
                    } else {
                        c.offer(f, f.sequence());
                    }
                }
                if (i == 0) {
                    Main.step(startNanos, "offered");
                    if (Boolean.getBoolean(Main.TRACE)) {
                        out.println("start (ms since main): " + System.getProperty(Main.STEPS));
                    }
                }
                if (i % every == 0) {
                    Path jpg = output.resolve(String.format("frame-%04d.jpg", i));
                    int h;
                    List<CpuAccess> accesses = new java.util.ArrayList<>();
                    try {
                        for (DmaBuf b : f.buffers()) {
                            accesses.add(b.beginCpuAccess(SyncDirection.READ));
                        }
                        String wrong = pattern == null ? null : pattern.bytes()
                                ? PatternSource.verifyBytes(accesses, f.sequence())
                                : PatternSource.verify(accesses, f.format(), f.sequence());
                        if (wrong != null) {
                            out.println("dmabuf-gateway: FAILED: the test pattern read back under "
                                    + "beginCpuAccess(READ): " + wrong);
                            return 1;
                        }
                        verified += pattern == null ? 0 : 1;
                        java.awt.image.BufferedImage img = Thumbnails.render(accesses, f.format());
                        byte[] jpeg = Thumbnails.jpeg(img);
                        Files.write(jpg, jpeg);
                        h = img.getHeight();
                        stats.thumbnail(i, f.sequence(), img.getWidth(), h, jpeg);
                    } finally {
                        for (int k = accesses.size() - 1; k >= 0; k--) {
                            accesses.get(k).close();
                        }
                    }
                    thumbnails++;
                    out.printf("frame %d/%d (sequence %d): thumbnail %s (%dx%d), %d consumer(s)%n", i + 1,
                            frames, f.sequence(), jpg, Math.min(Thumbnails.WIDTH, f.format().width()), h,
                            consumers.size());
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
        return 0;
    }

    /** The end of the run: lets each consumer take what waits for it, unless it stopped reading, then reports. */
    private void finish() throws InterruptedException {
        for (ConsumerFeed c : consumers) {
            if (!c.awaitDrained(STALLED) && c.failure() == null) {
                out.println("consumer pid " + c.pid() + " stopped reading: disconnected");
            } else if (c.failure() == null && !c.awaitReturned(STALLED)) {
                out.println("consumer pid " + c.pid() + " still holds " + c.framesOut() + " frame(s): disconnected");
            }
        }
        for (ConsumerFeed c : consumers) {
            if (c.failure() != null) {
                leave(c);
            } else {
                consumers.remove(c);
                c.close();
                out.println("consumer pid " + c.pid() + ": " + c.sent() + " frames sent, " + c.dropped()
                        + " dropped");
            }
        }
    }

    private void leave(ConsumerFeed c) {
        consumers.remove(c);
        c.close();
        out.println("consumer pid " + c.pid() + " left: " + c.failure().getMessage() + " (" + c.sent()
                + " frames sent, " + c.dropped() + " dropped)");
    }

    /** Closes every consumer still connected: their channels, hand-offs and sender threads. */
    private final class Feeds implements AutoCloseable {
        @Override
        public void close() {
            for (ConsumerFeed c : consumers) {
                consumers.remove(c);
                c.close();
            }
        }
    }

    /** The thread that accepts consumers, owned by the pipeline: {@link #close()} stops and joins it. */
    private final class Acceptor implements AutoCloseable {
        private final ChannelListener listener;
        private final int queue;
        private final Thread thread;
        private volatile boolean closed;

        Acceptor(ChannelListener listener, int queue) {
            this.listener = listener;
            this.queue = queue;
            this.thread = new Thread(this::accept, "dmabuf-gateway-accept");
            thread.start();
        }

        private void accept() {
            while (!closed) {
                BufferChannel c;
                try {
                    c = listener.accept(Duration.ofMillis(200));
                } catch (DmaBufException e) {
                    if (closed) {
                        return;
                    }
                    if ("EACCES".equals(e.errno())) {
                        out.println("consumer refused: " + e.getMessage());
                        continue;
                    }
                    out.println("dmabuf-gateway: no more consumers accepted: " + e.getMessage());
                    return;
                }
                if (c == null) {
                    continue;
                }
                if (closed) {
                    c.close();
                    return;
                }
                ConsumerFeed feed = new ConsumerFeed(c, queue);
                consumers.add(feed);
                out.println("consumer connected: pid " + c.peer().pid() + ", uid " + c.peer().uid());
                synchronized (connected) {
                    connected.notifyAll();
                }
            }
        }

        /** Stops accepting and joins the thread, even when the pipeline was interrupted (then re-asserted). */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            boolean interrupted = false;
            while (true) {
                try {
                    thread.join(); // accept() waits in 200 ms slices and sees the flag
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * The pipeline's figures, registered as a service ({@link PipelineStats}) for as long as it produces frames;
     * unregistered when closed.
     */
    private final class Published implements AutoCloseable {
        private final org.osgi.framework.ServiceRegistration<?> registration;

        Published(PipelineStats stats) {
            java.util.Hashtable<String, Object> props = new java.util.Hashtable<>();
            props.put(PipelineStats.PROPERTY, Boolean.TRUE);
            registration = context.registerService(java.util.function.Supplier.class.getName(), stats, props);
        }

        @Override
        public void close() {
            try {
                registration.unregister();
            } catch (IllegalStateException e) {
                // the bundle stopped first: the framework unregistered it
            }
        }
    }

    /** A service tracker the job opens and closes: every service it got is released when it closes. */
    private static final class Tracked<T> implements AutoCloseable {
        final ServiceTracker<T, T> tracker;

        Tracked(BundleContext context, Class<T> type) {
            tracker = new ServiceTracker<>(context, type, null);
            tracker.open();
        }

        @Override
        public void close() {
            tracker.close();
        }
    }

    /**
     * Shares the buffer's fd and turns it back into a buffer, as a receiver of the fd would.
     *
     * @return null if the registry gave back the same buffer, else what went wrong
     */
    private String shareAndGetBack(DmaBuf buf) {
        int fd = buf.fd();
        try (DmaBuf again = registry.get(fd)) {
            if (!again.id().equals(buf.id())) {
                return "registry.get(" + fd + ") gave " + again.id() + ", not the shared buffer " + buf.id();
            }
            out.printf("shared fd %d, registry.get(fd): the same buffer (inode %d, refcount %d)%n", fd,
                    again.inode(), again.refCount());
        }
        return null;
    }

    private void printBufinfo(String title) {
        List<BufferInfo> infos = registry.bufinfo();
        out.println(title + ": " + infos.size() + " buffer(s)");
        for (BufferInfo i : infos) {
            out.printf("  inode %d  size %d  exporter %s  kind %s  refcount %d  name %s  owner %s  format %s%n",
                    i.inode(), i.size(), i.exporter(), i.kind(), i.refCount(), i.name(), i.owner(),
                    i.format().map(BufferFormat::describe).orElse("-"));
        }
    }

    /** Hands the exit status to the launcher's {@link IntConsumer}; the service is released right after. */
    private void report(int status) {
        try {
            for (ServiceReference<IntConsumer> ref : context.getServiceReferences(IntConsumer.class,
                    "(" + Main.EXIT + "=true)")) {
                try {
                    IntConsumer exit = context.getService(ref);
                    if (exit != null) {
                        exit.accept(status);
                        return;
                    }
                } finally {
                    context.ungetService(ref);
                }
            }
        } catch (InvalidSyntaxException | IllegalStateException e) {
            out.println("dmabuf-gateway: cannot report the job's status: " + e);
        }
    }
}

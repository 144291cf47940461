package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.Frame;
import org.dmabuf.api.FrameSource;
import org.dmabuf.api.Plane;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.linux.TestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * The main job in this process, in a real Felix framework (its system bundle's context is the job's, so the
 * framework counts every service the job gets) with a standalone registry of sealed memfds: what the job owns is
 * released on every path, a failing setup step included, and what it does not own (a shared camera) is left alone.
 */
class MainJobTest {
    @TempDir
    Path tmp;
    private Framework framework;
    private BundleContext context;
    private StandaloneRegistry registry;
    private final MemfdTestExporter exporter = new MemfdTestExporter();
    private final CompletableFuture<Integer> status = new CompletableFuture<>();
    private final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private PrintStream savedOut;
    private long fdsBefore;
    private MainJob job;

    @BeforeEach
    void registry() {
        fdsBefore = TestSupport.openFds();
        registry = new StandaloneRegistry("org.dmabuf.gateway [test]").addExporter(exporter,
                MemfdTestExporter.properties("memfd"));
    }

    @AfterEach
    void stop() throws Exception {
        if (savedOut != null) {
            System.setOut(savedOut);
        }
        if (job != null) {
            job.deactivate();
        }
        if (framework != null) {
            framework.stop();
            framework.waitForStop(30_000);
        }
        registry.close();
    }

    /** Starts the framework with the job's properties; the job runs once {@link #startJob()} creates it. */
    private void framework(Map<String, String> options) throws Exception {
        Map<String, String> props = new HashMap<>();
        props.put(Constants.FRAMEWORK_STORAGE, tmp.resolve("felix-cache").toString());
        props.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        props.put(Main.RUN, "true");
        props.put(Main.START, Long.toString(System.nanoTime()));
        props.put(MainJob.OUTPUT, tmp.resolve("thumbs").toString());
        props.put(MainJob.SOCKET, tmp.resolve("run/frames.sock").toString());
        props.put(MainJob.FPS, "0");
        props.putAll(options);
        framework = java.util.ServiceLoader.load(FrameworkFactory.class).iterator().next().newFramework(props);
        framework.start();
        context = framework.getBundleContext();
        Hashtable<String, Object> exit = new Hashtable<>();
        exit.put(Main.EXIT, Boolean.TRUE);
        context.registerService(IntConsumer.class, status::complete, exit);
    }

    private String runJob() throws Exception {
        savedOut = System.out;
        System.setOut(new PrintStream(console, true, StandardCharsets.UTF_8));
        job = new MainJob(registry, registry.channels(), context);
        Integer s = status.get(60, TimeUnit.SECONDS);
        System.setOut(savedOut);
        savedOut = null;
        String out = console.toString(StandardCharsets.UTF_8);
        return s + "\n" + out;
    }

    /** After the job: no thread of it alive, no service of the framework in use, no buffer, no fd left. */
    private void nothingLeft() throws Exception {
        job.deactivate();
        assertThat(Thread.getAllStackTraces().keySet()).extracting(Thread::getName)
                .noneMatch(n -> n.startsWith("dmabuf-gateway-"));
        ServiceReference<?>[] inUse = context.getBundle().getServicesInUse();
        assertThat(inUse == null ? List.of() : List.of(inUse)).as("services the job got and did not unget")
                .isEmpty();
        assertThat(registry.bufinfo()).as("buffers left").isEmpty();
        assertThat(TestSupport.openFds()).as("fds left: %s", TestSupport.openFdTargets()).isEqualTo(fdsBefore);
        assertThat(tmp.resolve("run/frames.sock")).doesNotExist();
    }

    @Test
    void aCameraServiceIsUngotAndNeverClosedByTheJob() throws Exception {
        framework(Map.of(MainJob.SOURCE, "camera", MainJob.FRAMES, "6", MainJob.EVERY, "3"));
        StandaloneRegistry cameraSide = new StandaloneRegistry("camera").addExporter(new MemfdTestExporter(),
                MemfdTestExporter.properties("memfd"));
        TestCamera camera = new TestCamera(cameraSide);
        ServiceRegistration<FrameSource> reg = context.registerService(FrameSource.class, camera, null);
        String out = runJob();

        assertThat(out).startsWith("0\n").contains("source: V4L2 camera XR24 320x240").contains("done: 6 frames")
                .contains("bufinfo after release: 0 buffer(s)");
        assertThat(camera.closes).as("close() calls on the shared camera").hasValue(0);
        assertThat(camera.framesClosed).as("every frame the job took, closed").hasValue(6)
                .hasValue(camera.framesTaken.get());
        assertThat(reg.getReference().getUsingBundles()).as("bundles still using the camera").isNull();
        reg.unregister();
        camera.release();
        cameraSide.close();
        nothingLeft();
    }

    /** A setup step after the ring's allocation fails: the output folder, or the socket, under a plain file. */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0} under a file")
    @org.junit.jupiter.params.provider.CsvSource({MainJob.OUTPUT + ",thumbs", MainJob.SOCKET + ",frames.sock"})
    void theTestPatternIsReleasedWhenALaterSetupStepFails(String option, String under) throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "not a folder");
        framework(Map.of(MainJob.SOURCE, "pattern", option, file.resolve(under).toString()));
        String out = runJob();
        assertThat(out).startsWith("1\n").contains("dmabuf-gateway: FAILED: ").contains(file.toString());
        assertThat(exporter.allocated).as("the ring was allocated before the failing step")
                .hasValue(PatternSource.RING);
        nothingLeft();
    }

    /** NV12M: frames of two buffers each, read plane by plane for the thumbnails and the pattern's check. */
    @Test
    void theTestPatternInAFormatOfABufferPerPlaneMakesThumbnailsAndLeavesNothing() throws Exception {
        framework(Map.of(MainJob.SOURCE, "pattern", MainJob.FORMAT, "NV12M", MainJob.FRAMES, "4", MainJob.EVERY, "2"));
        String out = runJob();
        assertThat(out).startsWith("0\n")
                .contains("source: test pattern 320x240 NV12M (NV12 320x240 LINEAR [0:0+76800/320 1:0+38400/320])")
                .contains("test pattern verified under beginCpuAccess(READ) in 2 of 2 thumbnail frames")
                .contains("bufinfo: 8 buffer(s)").contains("bufinfo after release: 0 buffer(s)");
        assertThat(exporter.allocated).as("two buffers for each frame of the ring").hasValue(2 * PatternSource.RING);
        for (String jpg : List.of("frame-0000.jpg", "frame-0002.jpg")) {
            java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(tmp.resolve("thumbs").resolve(jpg).toFile());
            assertThat(img.getWidth()).isEqualTo(Thumbnails.WIDTH);
            java.util.Set<Integer> colours = new java.util.HashSet<>();
            for (int x = 5; x < 160; x += 20) {
                colours.add(img.getRGB(x, 60) & 0xe0e0e0);
            }
            assertThat(colours).as("colour bars in " + jpg).hasSizeGreaterThan(4);
        }
        nothingLeft();
    }

    @Test
    void anExporterThatDoesNotExistIsAClearFailureLeavingNothing() throws Exception {
        framework(Map.of(MainJob.SOURCE, "pattern", MainJob.EXPORTER, "no-such-exporter"));
        String out = runJob();
        assertThat(out).startsWith("1\n").contains("dmabuf-gateway: FAILED: ").contains("no-such-exporter");
        nothingLeft();
    }

    @Test
    void stoppingTheJobWhileItWaitsForConsumersReleasesEverythingAndJoinsItsThreads() throws Exception {
        framework(Map.of(MainJob.SOURCE, "pattern", MainJob.CONSUMERS, "1"));
        savedOut = System.out;
        System.setOut(new PrintStream(console, true, StandardCharsets.UTF_8));
        job = new MainJob(registry, registry.channels(), context);
        await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(tmp.resolve("run/frames.sock")));
        await().atMost(Duration.ofSeconds(30)).until(() -> Thread.getAllStackTraces().keySet().stream()
                .map(Thread::getName).filter(n -> n.equals("dmabuf-gateway-accept")).count() == 1);
        job.deactivate();
        assertThat(status).as("the job reported its end").isCompletedWithValue(1);
        nothingLeft();
    }

    /**
     * A shared camera, as exporter-v4l2 registers one: XR24 frames from a ring it owns; counts the frames taken
     * and closed and the close() calls its users make. Thread-safe.
     */
    static final class TestCamera implements FrameSource {
        final AtomicInteger framesTaken = new AtomicInteger();
        final AtomicInteger framesClosed = new AtomicInteger();
        final AtomicInteger closes = new AtomicInteger();
        private final BufferFormat format = new BufferFormat(BufferFormat.fourcc("XR24"), 320, 240,
                List.of(new Plane(0, 320L * 240 * 4, 320 * 4)));
        private final List<DmaBuf> ring = new ArrayList<>();
        private long sequence;

        TestCamera(StandaloneRegistry registry) {
            for (int i = 0; i < 2; i++) {
                ring.add(registry.allocate(BufferRequest.ofSize(320L * 240 * 4).name("camera-" + i).format(format)));
            }
        }

        @Override
        public synchronized Frame next(Duration timeout) {
            long n = sequence++;
            DmaBuf ref = ring.get((int) (n % ring.size())).get();
            framesTaken.incrementAndGet();
            return new Frame() {
                @Override
                public java.util.List<DmaBuf> buffers() {
                    return java.util.List.of(ref);
                }

                @Override
                public long sequence() {
                    return n;
                }

                @Override
                public long timestampNanos() {
                    return 0;
                }

                @Override
                public long bytesUsed(int index) {
                    return buffer(index).size();
                }

                @Override
                public BufferFormat format() {
                    return format;
                }

                @Override
                public void close() {
                    ref.close();
                    framesClosed.incrementAndGet();
                }
            };
        }

        @Override
        public BufferFormat format() {
            return format;
        }

        @Override
        public long framesCaptured() {
            return sequence;
        }

        @Override
        public long framesDropped() {
            return 0;
        }

        /** Stops the camera: its owner's call, which a user of the shared camera must never make. */
        @Override
        public void close() {
            closes.incrementAndGet();
        }

        /** The owner's release of the ring, at the end of the test. */
        void release() {
            ring.forEach(DmaBuf::close);
            ring.clear();
        }
    }
}

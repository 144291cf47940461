package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.Frame;
import org.dmabuf.api.FrameSource;
import org.dmabuf.api.ImporterDevice;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.spi.ExporterProvider;
import org.dmabuf.spi.ExporterSite;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plain-Java entry point ({@link DmaBufs}) with providers of this test: which provider opens with which
 * configuration, how configurations are given (maps, a {@code .cfg} folder), what is reported absent, what a failure
 * leaves open (nothing), and the order {@link DmaBufs#close()} ends things in.
 */
class DmaBufsTest {
    /** What happened, in order, across providers and the registry. */
    private final List<String> events = Collections.synchronizedList(new ArrayList<>());

    @interface HeapConfig {
        boolean enabled() default true;

        int ranking() default 300;
    }

    @interface DevConfig {
        String dev_path();

        int service_ranking() default 150;
    }

    /** Like the heap exporters: one configuration, opened without one too. */
    private final class Heaps implements ExporterProvider {
        @Override
        public String pid() {
            return "test.heap";
        }

        @Override
        public boolean factory() {
            return false;
        }

        @Override
        public boolean openWithoutConfiguration() {
            return true;
        }

        @Override
        public void open(ExporterSite site) {
            HeapConfig c = site.config(HeapConfig.class);
            if (!c.enabled()) {
                return;
            }
            TestExporter e = new TestExporter("heap", c.ranking());
            site.onClose(() -> events.add("close heap, buffers released: " + e.released.get()));
            site.addExporter(e, e.props);
            site.fallback("no udmabuf here");
            events.add("open heap ranking " + c.ranking());
        }
    }

    /** Like the DRM or V4L2 exporters: one instance per factory configuration, required. */
    private final class Devices implements ExporterProvider {
        private final Consumer<String> failOn;

        Devices(Consumer<String> failOn) {
            this.failOn = failOn;
        }

        @Override
        public String pid() {
            return "test.dev";
        }

        @Override
        public boolean factory() {
            return true;
        }

        @Override
        public boolean openWithoutConfiguration() {
            return false;
        }

        @Override
        public void open(ExporterSite site) {
            DevConfig c = site.config(DevConfig.class);
            failOn.accept(c.dev_path());
            String name = site.name();
            site.onClose(() -> events.add("close " + name));
            TestExporter e = new TestExporter("dev:" + name, c.service_ranking());
            site.addExporter(e, e.props);
            site.addImporter(new ImporterDevice() {
                @Override
                public String name() {
                    return name;
                }

                @Override
                public AutoCloseable importBuffer(DmaBuf buffer, int fd) {
                    return () -> { };
                }
            }, Map.of("dev.path", c.dev_path()));
            site.addFrameSource(new Source(name), Map.of());
            events.add("open " + name + " " + c.dev_path());
        }
    }

    private final class Source implements FrameSource {
        private final String name;

        Source(String name) {
            this.name = name;
        }

        @Override
        public Frame next(Duration timeout) {
            return null;
        }

        @Override
        public BufferFormat format() {
            return null;
        }

        @Override
        public long framesCaptured() {
            return 0;
        }

        @Override
        public long framesDropped() {
            return 0;
        }

        @Override
        public void close() {
            events.add("stop " + name);
        }
    }

    private DmaBufs.Builder builder() {
        return DmaBufs.builder().discover(false).owner("dmabufs-test").provider(new Heaps())
                .provider(new Devices(p -> { }));
    }

    @Test
    void withoutConfigurationOnlyProvidersThatNeedNoneOpen() {
        try (DmaBufs d = builder().open()) {
            assertThat(d.exporters()).extracting(e -> e.name()).containsExactly("heap");
            assertThat(d.frameSources()).isEmpty();
            assertThat(d.importers()).isEmpty();
            assertThat(d.fallbacks()).containsExactly("test.heap: no udmabuf here");
        }
    }

    @Test
    void factoryConfigurationsOpenOneInstanceEachFoundByName() {
        try (DmaBufs d = builder()
                .configure("test.heap", Map.of("ranking", "250"))
                .configure("test.dev~cam", Map.of("dev.path", "/dev/video0", "service.ranking", 50))
                .configure("test.dev~gpu", Map.of("dev.path", "/dev/dri/card0"))
                .open()) {
            assertThat(d.exporters()).extracting(e -> e.name() + "@" + e.ranking())
                    .containsExactly("heap@250", "dev:gpu@150", "dev:cam@50");
            assertThat(d.frameSource("cam")).containsInstanceOf(Source.class);
            assertThat(d.frameSource("gpu")).isPresent();
            assertThat(d.frameSource("nope")).isEmpty();
            assertThat(d.importer("gpu")).isPresent();
            assertThat(d.importers()).containsOnlyKeys("cam", "gpu");
            assertThat(events).containsExactly("open cam /dev/video0", "open gpu /dev/dri/card0",
                    "open heap ranking 250");
        }
    }

    @Test
    void aLaterConfigurationOfTheSamePidReplacesTheEarlier() {
        try (DmaBufs d = builder().configure("test.heap", Map.of("ranking", 1)).configure("test.heap",
                Map.of("ranking", 2)).open()) {
            assertThat(d.exporters()).extracting(e -> e.ranking()).containsExactly(2);
        }
    }

    @Test
    void aConfigurationNoProviderReadsIsReportedAbsent() {
        try (DmaBufs d = builder().configure("org.dmabuf.exporter.drm~card0", Map.of("dev.path", "/dev/dri/card0"))
                .open()) {
            assertThat(d.fallbacks()).contains("org.dmabuf.exporter.drm~card0: no exporter provider has PID "
                    + "org.dmabuf.exporter.drm (is its jar on the class path or module path?): configuration not used");
        }
    }

    @Test
    void aFactoryPidWithoutNameOrAPidWithOneIsRefused() {
        assertThatThrownBy(() -> builder().configure("test.dev", Map.of("dev.path", "x")).open())
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("test.dev is a factory PID: name the configuration, test.dev~NAME");
        assertThatThrownBy(() -> builder().configure("test.heap~one", Map.of()).open())
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("test.heap is not a factory PID");
    }

    @Test
    void aBadConfigurationFailsTheOpenNamingThePropertyAndClosesWhatWasOpened() {
        assertThatThrownBy(() -> builder().configure("test.dev~cam", Map.of("dev.path", "/dev/video0"))
                .configure("test.dev~bad", Map.of("service.ranking", 1)).open())
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("activate: EINVAL: test.dev~bad: property dev.path is required (it has no default) "
                        + "and is absent");
        assertThat(events).containsExactly("open cam /dev/video0", "stop cam", "close cam");
    }

    @Test
    void aProviderFailureClosesWhatOthersOpenedAndPropagates() {
        DmaBufException boom = new DmaBufException("open", "ENOENT", "/dev/video9");
        assertThatThrownBy(() -> DmaBufs.builder().discover(false).provider(new Heaps())
                .provider(new Devices(p -> {
                    if (p.equals("/dev/video9")) {
                        throw boom;
                    }
                }))
                .configure("test.dev~a", Map.of("dev.path", "/dev/video0"))
                .configure("test.dev~b", Map.of("dev.path", "/dev/video9")).open()).isSameAs(boom);
        assertThat(events).containsExactly("open a /dev/video0", "stop a", "close a");
    }

    @Test
    void aProvidersUntypedFailureBecomesATypedOneNamingTheProviderAndTheConfiguration() {
        IllegalStateException bug = new IllegalStateException("provider bug");
        assertThatThrownBy(() -> DmaBufs.builder().discover(false).provider(new Heaps())
                .provider(new Devices(p -> {
                    if (p.equals("/dev/video9")) {
                        throw bug;
                    }
                }))
                .configure("test.dev~a", Map.of("dev.path", "/dev/video0"))
                .configure("test.dev~b", Map.of("dev.path", "/dev/video9")).open())
                .isInstanceOf(DmaBufException.class).hasCause(bug)
                .hasMessageStartingWith("activate: EIO: test.dev~b: provider " + Devices.class.getName()
                        + " failed: java.lang.IllegalStateException: provider bug");
        assertThat(events).containsExactly("open a /dev/video0", "stop a", "close a");
    }

    @Test
    void aProviderFailingWithAnErrorStillClosesWhatOthersOpened() {
        NoClassDefFoundError missing = new NoClassDefFoundError("org/osgi/framework/BundleContext");
        assertThatThrownBy(() -> DmaBufs.builder().discover(false).provider(new Heaps())
                .provider(new Devices(p -> {
                    if (p.equals("/dev/video9")) {
                        throw missing;
                    }
                }))
                .configure("test.dev~a", Map.of("dev.path", "/dev/video0"))
                .configure("test.dev~b", Map.of("dev.path", "/dev/video9")).open()).isSameAs(missing);
        assertThat(events).containsExactly("open a /dev/video0", "stop a", "close a");
    }

    @Test
    void closeRacingCloseAndAllocateEndsEverythingOnceAndLeavesNoBuffer() throws Exception {
        for (int round = 0; round < 200; round++) {
            events.clear();
            DmaBufs d = builder().configure("test.dev~cam", Map.of("dev.path", "/dev/video0")).open();
            java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(3);
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(3);
            try {
                List<java.util.concurrent.Future<?>> runs = new ArrayList<>();
                for (int t = 0; t < 2; t++) {
                    runs.add(pool.submit(() -> {
                        start.await();
                        d.close();
                        return null;
                    }));
                }
                java.util.concurrent.Future<DmaBuf> allocating = pool.submit(() -> {
                    start.await();
                    return d.allocate(BufferRequest.ofSize(4096).exporter("heap"));
                });
                for (java.util.concurrent.Future<?> r : runs) {
                    r.get(30, java.util.concurrent.TimeUnit.SECONDS);
                }
                try {
                    DmaBuf won = allocating.get(30, java.util.concurrent.TimeUnit.SECONDS);
                    assertThat(won.isPut()).as("a buffer allocated before the close is released by it").isTrue();
                } catch (java.util.concurrent.ExecutionException e) {
                    assertThat(e.getCause()).as("an allocation after the close is refused, typed")
                            .isInstanceOf(DmaBufException.class);
                }
            } finally {
                pool.shutdownNow();
                assertThat(pool.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            }
            assertThat(d.bufinfo()).isEmpty();
            assertThat(events.stream().filter(e -> e.equals("stop cam"))).hasSize(1);
            assertThat(events.stream().filter(e -> e.equals("close cam"))).hasSize(1);
            assertThat(events.stream().filter(e -> e.startsWith("close heap"))).hasSize(1);
        }
    }

    @Test
    void closeStopsSourcesThenReleasesBuffersThenClosesResourcesLastOpenedFirst() {
        DmaBufs d = builder().configure("test.dev~cam", Map.of("dev.path", "/dev/video0")).open();
        DmaBuf held = d.allocate(BufferRequest.ofSize(4096).exporter("heap"));
        d.registry.onWarning(events::add);
        events.add("closing");
        d.close();
        assertThat(held.isPut()).isTrue();
        assertThat(d.bufinfo()).isEmpty();
        assertThat(d.exporters()).isEmpty();
        assertThat(events).containsExactly("open cam /dev/video0", "open heap ranking 300", "closing", "stop cam",
                "close heap, buffers released: 1", "close cam");
        d.close();
        assertThat(events).hasSize(6);
    }

    @Test
    void theRegistryPidConfiguresTheRegistry() {
        try (DmaBufs d = builder().configure(BufferRegistry.PID, Map.of("leak.trace", "true")).open()) {
            assertThat(d.registry.leakTrace).isTrue();
            assertThat(d.fallbacks()).noneMatch(f -> f.contains("no exporter provider"));
        }
    }

    @Test
    void aFolderOfCfgFilesConfiguresAsTheGatewaysDoes(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("test.heap.cfg"), "ranking=222\nenabled = true\n");
        Files.writeString(dir.resolve("test.dev~cam.cfg"), "# a camera\ndev.path=/dev/video0\nservice.ranking=7\n");
        Files.writeString(dir.resolve("notes.txt"), "not a configuration");
        try (DmaBufs d = builder().configurationFolder(dir).open()) {
            assertThat(d.exporters()).extracting(e -> e.name() + "@" + e.ranking())
                    .containsExactly("heap@222", "dev:cam@7");
            assertThat(d.frameSource("cam")).isPresent();
        }
    }

    @Test
    void aMissingFolderIsRefusedNamingIt(@TempDir Path dir) {
        Path missing = dir.resolve("conf");
        assertThatThrownBy(() -> builder().configurationFolder(missing)).isInstanceOf(DmaBufException.class)
                .hasMessageStartingWith("configurationFolder: ENOENT: " + missing);
    }

    @Test
    void aBadValueInACfgFileIsRefusedNamingTheProperty(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("test.heap.cfg"), "ranking=high\n");
        assertThatThrownBy(() -> builder().configurationFolder(dir).open())
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageStartingWith("activate: EINVAL: test.heap: property ranking = 'high' is not an integer");
    }
}

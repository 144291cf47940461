package org.dmabuf.reliability;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.net.URISyntaxException;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.core.SoakLeaks;
import org.dmabuf.core.DmaBufs;
import org.dmabuf.spi.DmaBufExporter;

/**
 * The soak: {@code threads} producer threads each run cycles of allocate a buffer (4 KiB to 1 MiB, GREY 4096 × 1..256)
 * + name it + write its first and last byte under CPU access + send it on the thread's own wire-v2 channel with
 * releases to another process ({@link SoakPeer}), which gets it, checks the bytes and returns it + {@code get(fd)} of
 * it on this side while it is out + wait for its RELEASE + close it. The exporters take turns, cycle by cycle.
 *
 * <p>After a warm-up (the same cycles, uncounted) both processes measure themselves ({@link Snapshot}), with every
 * buffer released; after the last cycle they measure again. The soak fails if any open fd kind or kernel mapping
 * kind (dma-buf, memfd, /dev node) counts differently, if NMT committed outside the Java heap, malloc in use or the
 * Java heap used after GC grew by more than the tolerance, if the registry still lists a buffer, if the kernel's
 * {@code /sys/kernel/debug/dma_buf/bufinfo} (where readable) still lists one named by the soak or more buffers than
 * at the baseline, if the peer read a wrong byte, or if any cycle failed.
 *
 * <p>Threads: {@link #run} owns the producer threads; it starts and joins them. Run it from one thread at a time.
 */
public final class Soak {
    /** The tag of the frame after which the peer measures its baseline. */
    static final long MARK_BASELINE = -1;
    /** The tag of the frame after which the peer measures its end. */
    static final long MARK_FINAL = -2;
    private static final Duration WAIT = Duration.ofSeconds(120); // a hang guard, never a measure
    private static final String BUFINFO = "/sys/kernel/debug/dma_buf/bufinfo";
    private static final int WIDTH = 4096;
    private static final int MAX_LINES = 256;

    private Soak() {
    }

    /** The byte a frame tagged {@code tag} holds first and last. */
    static byte pattern(long tag) {
        return (byte) (tag * 31 + 7);
    }

    /**
     * What to run.
     *
     * @param cycles cycles measured, over all threads
     * @param threads producer threads, one channel each
     * @param exporters {@code memfd}, {@code system} (/dev/dma_heap/system), {@code udmabuf}, {@code vgem}
     *        (/dev/dri/card0), taking turns
     * @param warmup cycles per thread before the baseline
     * @param tolerance allowed growth of the memory figures
     */
    public record Config(long cycles, int threads, List<String> exporters, long warmup, Snapshot.Tolerance tolerance) {
        /** Checks the values. */
        public Config {
            exporters = List.copyOf(exporters);
            if (cycles < threads || threads < 1 || exporters.isEmpty() || warmup < 1) {
                throw new IllegalArgumentException("cycles " + cycles + ", threads " + threads + ", exporters "
                        + exporters + ", warm-up " + warmup);
            }
        }
    }

    /**
     * What a run found.
     *
     * @param config what ran
     * @param elapsed the measured cycles' time
     * @param host this process at the baseline and at the end
     * @param hostEnd this process at the end
     * @param peer the peer at the baseline
     * @param peerEnd the peer at the end
     * @param peerFrames frames the peer checked (warm-up included)
     * @param peerBad wrong bytes the peer saw
     * @param leaks handles dropped without put between the baseline and the end, as the registries' leak reapers
     *        counted them: this process's and the peer's
     * @param bufinfo the kernel's bufinfo objects at the baseline and at the end, and ours listed at the end; null
     *        where debugfs is not readable
     * @param failures every reason the soak failed; empty when it passed
     */
    public record Result(Config config, Duration elapsed, Snapshot host, Snapshot hostEnd, Snapshot peer,
            Snapshot peerEnd, long peerFrames, long peerBad, long[] leaks, int[] bufinfo, List<String> failures) {
        /** @return true when nothing leaked and every cycle succeeded */
        public boolean passed() {
            return failures.isEmpty();
        }

        /** @return the Markdown report */
        public String report(String title) {
            return Soak.report(title, this);
        }
    }

    /**
     * Runs the soak.
     *
     * @param c what to run
     * @return what it found
     * @throws Exception if the peer cannot be started or the soak cannot be set up
     */
    public static Result run(Config c) throws Exception {
        List<String> failures = new CopyOnWriteArrayList<>();
        long t0 = System.nanoTime();
        Snapshot.take(); // loads what measuring needs before the baseline
        Path dir = Files.createTempDirectory("dmabuf-soak");
        DmaBufs registry = open(c.exporters());
        List<String> names = new ArrayList<>();
        for (String e : c.exporters()) {
            names.add(exporterName(registry, e));
        }
        Process peer = null;
        List<BufferChannel> channels = new ArrayList<>();
        List<Thread> workers = new ArrayList<>();
        CountDownLatch warmedUp = new CountDownLatch(c.threads());
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch ran = new CountDownLatch(c.threads());
        CountDownLatch finish = new CountDownLatch(1);
        AtomicLong done = new AtomicLong();
        Snapshot host = null;
        Snapshot hostEnd = null;
        Snapshot[] peerSnaps = new Snapshot[2];
        long[] peerCounts = new long[4]; // frames, wrong bytes, leaks at the baseline, leaks at the end
        long[] leaks = new long[2];
        long hostLeaks = 0;
        int[] bufinfo = null;
        Duration elapsed = Duration.ZERO;
        try (ChannelListener listener = registry.channels().listen(dir.resolve("soak.sock"),
                ChannelOptions.sameUser().withReleases())) {
            peer = new ProcessBuilder(peerCommand(listener.path(), c.threads()))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader peerOut = new BufferedReader(new InputStreamReader(peer.getInputStream(),
                    StandardCharsets.UTF_8));
            for (int i = 0; i < c.threads(); i++) {
                channels.add(listener.accept(WAIT));
            }
            for (int i = 0; i < c.threads(); i++) {
                int t = i;
                long mine = c.cycles() / c.threads() + (t < c.cycles() % c.threads() ? 1 : 0);
                Thread w = new Thread(() -> {
                    try {
                        cycles(registry, channels.get(t), names, t, c.warmup(), c.threads(), failures, null);
                        warmedUp.countDown();
                        go.await();
                        if (failures.isEmpty()) {
                            cycles(registry, channels.get(t), names, t, mine, c.threads(), failures, done);
                        }
                        ran.countDown();
                        finish.await();
                    } catch (InterruptedException e) {
                        failures.add("soak thread " + t + " interrupted");
                    } finally {
                        warmedUp.countDown();
                        ran.countDown();
                    }
                }, "soak-" + t);
                workers.add(w);
                w.start();
            }
            System.err.printf("soak: peer connected in %.1f s%n", (System.nanoTime() - t0) / 1e9);
            warmedUp.await();
            System.err.printf("soak: warmed up after %.1f s%n", (System.nanoTime() - t0) / 1e9);
            if (failures.isEmpty()) {
                peerLine(registry, channels.get(0), names.get(0), MARK_BASELINE, peerOut, peerSnaps, peerCounts,
                        failures);
                bufinfo = new int[3];
                bufinfo[0] = bufinfo(null);
                host = Snapshot.take();
                hostLeaks = SoakLeaks.of(registry);
            }
            long start = System.nanoTime();
            System.err.printf("soak: baseline taken after %.1f s%n", (start - t0) / 1e9);
            go.countDown();
            long step = Math.max(c.cycles() / 20, 1);
            long next = step;
            while (!ran.await(10, TimeUnit.SECONDS) || done.get() >= next) { // progress for long runs
                if (done.get() >= next) {
                    System.err.printf("soak: %d of %d cycles, %.0f s%n", done.get(), c.cycles(),
                            (System.nanoTime() - start) / 1e9);
                    next = (done.get() / step + 1) * step;
                }
            }
            elapsed = Duration.ofNanos(System.nanoTime() - start);
            if (failures.isEmpty() && host != null) {
                peerLine(registry, channels.get(0), names.get(0), MARK_FINAL, peerOut, peerSnaps, peerCounts,
                        failures);
                if (!registry.bufinfo().isEmpty()) {
                    failures.add("the registry still lists " + registry.bufinfo().size() + " buffers: "
                            + registry.bufinfo());
                }
                hostEnd = Snapshot.take();
                leaks[0] = SoakLeaks.of(registry) - hostLeaks;
                leaks[1] = peerCounts[3] - peerCounts[2];
                if (leaks[0] != 0 || leaks[1] != 0) {
                    failures.add("handles dropped without put() (the registry's leak reaper put them): " + leaks[0]
                            + " in this process, " + leaks[1] + " in the peer");
                }
                System.err.printf("soak: end taken %.1f s after the last cycle%n",
                        (System.nanoTime() - start) / 1e9 - elapsed.toNanos() / 1e9);
                bufinfo[1] = bufinfo(null);
                List<String> ours = new ArrayList<>();
                bufinfo(ours);
                bufinfo[2] = ours.size();
                if (bufinfo[0] >= 0 && (bufinfo[1] != bufinfo[0] || !ours.isEmpty())) {
                    failures.add("the kernel's bufinfo lists " + bufinfo[1] + " buffers at the end, " + bufinfo[0]
                            + " at the baseline; the soak's: " + ours);
                }
                if (bufinfo[0] < 0) {
                    bufinfo = null;
                }
                for (String d : hostEnd.differencesFrom(host, c.tolerance())) {
                    failures.add("this process: " + d);
                }
                if (peerSnaps[1] != null) {
                    for (String d : peerSnaps[1].differencesFrom(peerSnaps[0], c.tolerance())) {
                        failures.add("the peer: " + d);
                    }
                }
                if (peerCounts[1] != 0) {
                    failures.add("the peer read " + peerCounts[1] + " wrong bytes");
                }
                if (done.get() != c.cycles()) {
                    failures.add(done.get() + " cycles done of " + c.cycles());
                }
            }
        } finally {
            go.countDown();
            finish.countDown();
            for (Thread w : workers) {
                w.join();
            }
            channels.forEach(BufferChannel::close);
            if (peer != null && !peer.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS)) {
                peer.destroyForcibly();
                failures.add("the peer did not exit when its channels closed");
            } else if (peer != null && peer.exitValue() != 0) {
                failures.add("the peer exited with status " + peer.exitValue());
            }
            registry.close();
            Files.deleteIfExists(dir.resolve("soak.sock"));
            Files.deleteIfExists(dir);
        }
        return new Result(c, elapsed, host, hostEnd, peerSnaps[0], peerSnaps[1], peerCounts[0], peerCounts[1],
                leaks, bufinfo, List.copyOf(failures));
    }

    /**
     * The registry a plain Java program opens, with the exporters asked for and no other: the heap exporters'
     * configuration turns off those not asked for; {@code vgem} is the DRM configuration {@code card0}.
     */
    private static DmaBufs open(List<String> which) {
        for (String w : which) {
            if (!List.of("memfd", "system", "udmabuf", "vgem").contains(w)) {
                throw new IllegalArgumentException("exporter " + w + ": not memfd, system, udmabuf or vgem");
            }
        }
        DmaBufs.Builder b = DmaBufs.builder().owner("soak").configure("org.dmabuf.exporter.heap", Map.of(
                "dmaheap.enabled", which.contains("system"), "udmabuf.enabled", which.contains("udmabuf"),
                "memfd.enabled", which.contains("memfd")));
        if (which.contains("vgem")) {
            b.configure("org.dmabuf.exporter.drm~card0", Map.of("dev.path", "/dev/dri/card0"));
        }
        return b.open();
    }

    /** The service name requests name an exporter by; fails if the kernel does not have it. */
    private static String exporterName(DmaBufs registry, String which) {
        return registry.exporters().stream().map(org.dmabuf.api.ExporterInfo::name)
                .filter(n -> which.equals("vgem") ? n.startsWith("drm:") : n.equals(which)).findFirst()
                .orElseThrow(() -> new IllegalStateException("exporter " + which + " is absent: "
                        + String.join("; ", registry.fallbacks())));
    }

    /** One thread's cycles. */
    private static void cycles(DmaBufs registry, BufferChannel ch, List<String> exporters, int t, long n,
            int threads, List<String> failures, AtomicLong done) {
        SplittableRandom random = new SplittableRandom(t * 7919L + n);
        for (long k = 0; k < n && failures.isEmpty(); k++) {
            long tag = k * threads + t;
            String exporter = exporters.get((int) ((k + t) % exporters.size()));
            int lines = 1 + random.nextInt(MAX_LINES);
            try {
                cycle(registry, ch, exporter, lines, tag, "soak-" + t + "-" + (k % 1000));
            } catch (RuntimeException | AssertionError e) {
                failures.add("thread " + t + ", cycle " + k + " (" + exporter + ", " + lines * WIDTH + " bytes): " + e);
                e.printStackTrace();
                return;
            }
            if (done != null) {
                done.incrementAndGet();
            }
        }
    }

    private static void cycle(DmaBufs registry, BufferChannel ch, String exporter, int lines, long tag,
            String name) {
        try (FrameBuffer f = registry.allocateFrame(BufferRequest.ofFormat(PixelFormat.GREY, WIDTH, lines)
                .exporter(exporter))) {
            DmaBuf b = f.buffers().get(0);
            b.setName(name);
            byte p = pattern(tag);
            try (CpuAccess a = b.beginCpuAccess(SyncDirection.WRITE)) {
                a.putByte(0, p);
                a.putByte(b.size() - 1, p);
            }
            long id = ch.send(f, tag, WAIT);
            try (DmaBuf again = registry.get(b.fd())) {
                if (!again.id().equals(b.id())) {
                    throw new AssertionError("get(" + b.fd() + ") gave " + again.id() + ", not " + b.id());
                }
            }
            if (!ch.awaitRelease(id, WAIT)) {
                throw new AssertionError("frame " + id + " not returned within " + WAIT);
            }
        }
    }

    /** Sends a marker frame, waits for it back and reads the peer's line. */
    private static void peerLine(DmaBufs registry, BufferChannel ch, String exporter, long mark,
            BufferedReader peerOut, Snapshot[] snaps, long[] counts, List<String> failures) throws IOException {
        try (FrameBuffer f = registry.allocateFrame(BufferRequest.ofFormat(PixelFormat.GREY, 64, 64)
                .exporter(exporter).name("soak-mark"))) {
            if (!ch.awaitRelease(ch.send(f, mark, WAIT), WAIT)) {
                failures.add("the peer did not return the marker " + mark);
                return;
            }
        }
        String line = peerOut.readLine();
        if (line == null || !line.startsWith("SOAK-PEER ")) {
            failures.add("the peer said " + line + " instead of its figures");
            return;
        }
        int bar = line.indexOf(" | ");
        int i = mark == MARK_BASELINE ? 0 : 1;
        snaps[i] = Snapshot.parseLine(line.substring(bar + 3));
        for (String w : line.substring(0, bar).split(" ")) {
            if (w.startsWith("frames=")) {
                counts[0] = Long.parseLong(w.substring(7));
            } else if (w.startsWith("bad=")) {
                counts[1] = Long.parseLong(w.substring(4));
            } else if (w.startsWith("leaks=")) {
                counts[2 + i] = Long.parseLong(w.substring(6));
            }
        }
    }

    /**
     * Reads the kernel's list of dma-bufs.
     *
     * @param ours where to add the lines of buffers the soak named, or null
     * @return the number of buffers listed, -1 if debugfs is not readable
     */
    static int bufinfo(List<String> ours) {
        Path p = Path.of(BUFINFO);
        List<String> lines;
        try {
            lines = Files.readAllLines(p);
        } catch (IOException | SecurityException e) {
            return -1;
        }
        int n = 0;
        for (String l : lines) {
            // an object's line: size flags mode count exp_name ino [name]
            String[] w = l.trim().split("\\s+");
            if (w.length >= 6 && w[0].matches("\\d+") && w[1].matches("[0-9a-fA-F]+")) {
                n++;
                if (ours != null && l.contains("soak-")) {
                    ours.add(l.trim());
                }
            }
        }
        return n;
    }

    /** The command line of the peer JVM: NMT on, the same class path, the same JIT tier limit as this JVM. */
    static List<String> peerCommand(Path socket, int connections) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:NativeMemoryTracking=summary", "-XX:-UsePerfData"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("-XX:TieredStopAtLevel") || a.startsWith("-Xshare")) {
                cmd.add(a);
            }
        }
        cmd.add("-Djna.tmpdir=" + System.getProperty("jna.tmpdir", System.getProperty("java.io.tmpdir") + "/jna"));
        cmd.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
        cmd.addAll(List.of("-cp", classpath(), SoakPeer.class.getName(), socket.toString(),
                Integer.toString(connections)));
        return cmd;
    }

    /** This JVM's class path: a launcher's class loader's URLs where there is one (JUnit's console launcher). */
    private static String classpath() {
        Set<String> parts = new LinkedHashSet<>();
        if (Soak.class.getClassLoader() instanceof URLClassLoader u) {
            for (java.net.URL url : u.getURLs()) {
                try {
                    parts.add(Path.of(url.toURI()).toString());
                } catch (URISyntaxException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        parts.addAll(List.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator)));
        return String.join(java.io.File.pathSeparator, parts);
    }

    private static String report(String title, Result r) {
        StringBuilder b = new StringBuilder();
        Config c = r.config();
        double s = r.elapsed().toNanos() / 1e9;
        b.append("### ").append(title).append("\n\n");
        b.append("| | |\n|---|---|\n");
        b.append("| verdict | ").append(r.passed() ? "**PASS**" : "**FAIL**").append(" |\n");
        b.append("| date | ").append(Instant.now().truncatedTo(ChronoUnit.SECONDS)).append(" |\n");
        b.append("| machine | ").append(machine()).append(" |\n");
        b.append("| cycles | ").append(c.cycles()).append(" measured, after ").append(c.warmup() * c.threads())
                .append(" of warm-up |\n");
        b.append("| threads | ").append(c.threads()).append(" producers, one wire-v2 channel with releases each, to one peer JVM |\n");
        b.append("| exporters | ").append(String.join(", ", c.exporters())).append(" (taking turns) |\n");
        b.append("| sizes | 4 KiB to 1 MiB (GREY ").append(WIDTH).append(" × 1..").append(MAX_LINES).append(") |\n");
        b.append(String.format("| elapsed | %.1f s (%.0f cycles/s) |%n", s, c.cycles() / Math.max(s, 1e-9)));
        b.append("| peer | ").append(r.peerFrames()).append(" frames checked, ").append(r.peerBad())
                .append(" wrong bytes |\n");
        b.append("| handles dropped without put | ").append(r.leaks()[0]).append(" in the soak, ").append(r.leaks()[1])
                .append(" in the peer (the registries' leak reapers) |\n");
        if (r.bufinfo() != null) {
            b.append("| kernel bufinfo | ").append(r.bufinfo()[0]).append(" dma-bufs at the baseline, ")
                    .append(r.bufinfo()[1]).append(" at the end, ").append(r.bufinfo()[2]).append(" named by the soak |\n");
        }
        b.append("| tolerance | NMT committed outside heap, GC, JIT and monitors, and malloc outside the JVM: +")
                .append(c.tolerance().nativeBytes() / 1024).append(" KiB each; Java heap after GC: +")
                .append(c.tolerance().heapBytes() / 1024).append(" KiB; fds and kernel mappings: exact |\n\n");
        if (r.host() != null && r.hostEnd() != null) {
            b.append("| figure | soak baseline | soak end | peer baseline | peer end |\n|---|---:|---:|---:|---:|\n");
            Set<String> fdKinds = new java.util.TreeSet<>(r.host().fds().keySet());
            fdKinds.addAll(r.hostEnd().fds().keySet());
            Set<String> mapKinds = new java.util.TreeSet<>(r.host().kernelMaps().keySet());
            mapKinds.addAll(r.hostEnd().kernelMaps().keySet());
            if (r.peer() != null) {
                fdKinds.addAll(r.peer().fds().keySet());
                mapKinds.addAll(r.peer().kernelMaps().keySet());
                if (r.peerEnd() != null) {
                    fdKinds.addAll(r.peerEnd().fds().keySet());
                    mapKinds.addAll(r.peerEnd().kernelMaps().keySet());
                }
            }
            for (String k : fdKinds) {
                row(b, "fds: " + k, snap -> (long) snap.fds().getOrDefault(k, 0), r);
            }
            for (String k : mapKinds) {
                row(b, "mappings: " + k, snap -> (long) snap.kernelMaps().getOrDefault(k, 0), r);
            }
            if (mapKinds.isEmpty()) {
                b.append("| mappings: dma-buf, memfd, /dev | 0 | 0 | 0 | 0 |\n");
            }
            row(b, "mappings: all lines", snap -> (long) snap.maps(), r);
            row(b, "NMT committed, all, KiB", snap -> snap.nmtCommitted() / 1024, r);
            row(b, "NMT committed outside heap, GC, JIT, monitors (checked), KiB", snap -> snap.nmtChecked() / 1024, r);
            Set<String> moved = new java.util.TreeSet<>();
            for (Snapshot[] pair : new Snapshot[][] {{r.host(), r.hostEnd()}, {r.peer(), r.peerEnd()}}) {
                if (pair[0] != null && pair[1] != null) {
                    pair[1].nmtCategories().forEach((k, v) -> {
                        if (Math.abs(v - pair[0].nmtCategories().getOrDefault(k, 0L)) >= 256 * 1024) {
                            moved.add(k);
                        }
                    });
                }
            }
            for (String k : moved) {
                row(b, "&nbsp;&nbsp;of which NMT " + k + " (moved ≥ 256 KiB), KiB",
                        snap -> snap.nmtCategories().getOrDefault(k, 0L) / 1024, r);
            }
            row(b, "NMT of heap, GC, JIT, monitors (not checked), KiB", snap -> snap.nmtVolatile() / 1024, r);
            row(b, "malloc in use (mallinfo2), KiB", snap -> snap.mallocInUse() / 1024, r);
            row(b, "malloc outside the JVM (checked), KiB", snap -> snap.mallocOutsideJvm() / 1024, r);
            row(b, "Java heap used after GC, KiB", snap -> snap.heapUsed() / 1024, r);
        }
        if (!r.passed()) {
            b.append("\nFailures:\n\n");
            r.failures().forEach(f -> b.append("- ").append(f).append('\n'));
        }
        return b.toString();
    }

    private static void row(StringBuilder b, String name, java.util.function.ToLongFunction<Snapshot> f, Result r) {
        b.append("| ").append(name);
        for (Snapshot s : new Snapshot[] {r.host(), r.hostEnd(), r.peer(), r.peerEnd()}) {
            b.append(" | ").append(s == null ? "—" : Long.toString(f.applyAsLong(s)));
        }
        b.append(" |\n");
    }

    private static String machine() {
        String cpu = "";
        try {
            cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim() + ", ").orElse("");
        } catch (IOException e) {
            cpu = "";
        }
        return "Linux " + System.getProperty("os.version") + ", " + cpu
                + Runtime.getRuntime().availableProcessors() + " CPUs, Java " + System.getProperty("java.version")
                + ", max heap " + Runtime.getRuntime().maxMemory() / (1024 * 1024) + " MiB";
    }

    /**
     * The command line: {@code [--cycles N] [--threads N] [--exporters a,b] [--warmup N] [--native-kib N]
     * [--heap-kib N] [--report FILE]}. Prints the Markdown report on stdout (and to the file); exits 1 when the
     * soak failed.
     *
     * @param args the options
     * @throws Exception when the soak cannot run
     */
    public static void main(String[] args) throws Exception {
        long cycles = 1_000_000;
        int threads = 8;
        List<String> exporters = List.of("memfd");
        long warmup = -1;
        long nativeKib = DEFAULT_TOLERANCE.nativeBytes() / 1024;
        long heapKib = DEFAULT_TOLERANCE.heapBytes() / 1024;
        String title = null;
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            String v = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--cycles" -> cycles = Long.parseLong(v);
                case "--threads" -> threads = Integer.parseInt(v);
                case "--exporters" -> exporters = List.of(v.split(","));
                case "--warmup" -> warmup = Long.parseLong(v);
                case "--native-kib" -> nativeKib = Long.parseLong(v);
                case "--heap-kib" -> heapKib = Long.parseLong(v);
                case "--title" -> title = v;
                case "--report" -> out = Path.of(v);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
            i++;
        }
        if (warmup < 0) {
            warmup = defaultWarmup(cycles, threads);
        }
        Config c = new Config(cycles, threads, exporters, warmup, new Snapshot.Tolerance(nativeKib * 1024,
                heapKib * 1024));
        Result r = run(c);
        String report = r.report(title != null ? title : "Soak: " + cycles + " cycles, " + String.join(", ", exporters));
        System.out.println(report);
        if (out != null) {
            Files.writeString(out, report);
        }
        System.exit(r.passed() ? 0 : 1);
    }

    /**
     * The default tolerance. Native: 8 MiB, what the JVM itself moves between two quiet moments (the JIT's code
     * cache and compiler arenas, metaspace, GC bookkeeping, glibc's per-thread arenas) and far less than a leak of
     * 16 bytes per cycle over the long run's million cycles. Heap: 4 MiB after a full GC, the JIT's and class
     * loading's growth; a retained object per cycle (16 bytes or more) shows well beyond it in the long run.
     */
    public static final Snapshot.Tolerance DEFAULT_TOLERANCE = new Snapshot.Tolerance(8L << 20, 4L << 20);

    /** Warm-up per thread: a tenth of each thread's cycles, between 200 and 5000. */
    public static long defaultWarmup(long cycles, int threads) {
        return Math.max(200, Math.min(5000, cycles / threads / 10));
    }

    /** @return the exporters of the kernel guest */
    static List<String> guestExporters() {
        return List.of("system", "udmabuf", "vgem");
    }
}

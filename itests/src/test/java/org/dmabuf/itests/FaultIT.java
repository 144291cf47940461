package org.dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import javax.inject.Inject;
import org.awaitility.Awaitility;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferChannels;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.itests.client.FaultClientActivator;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Sys;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;
import org.junit.Assume;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;

/**
 * Bundles stopped under live buffers, in the framework: the heap exporters' bundle stopped while its buffers are
 * shared with another process (their frames in flight to a consumer process), and a client bundle stopped while it
 * holds buffers, attachments, mappings and a second handle. On the host the heap bundle's exporter is the sealed
 * memfd; in the kernel guest the system heap and udmabuf too. Fds are counted in {@code /proc/self/fd} before and
 * after. Runs on JUnit's thread.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class FaultIT {
    /** The Python example consumer, from the module's folder (the host's failsafe) or the project's (the guest). */
    private static final Path CONSUMER = Stream.of("../examples/python/dmabuf_consumer.py",
            "examples/python/dmabuf_consumer.py").map(Path::of).filter(Files::isRegularFile).findFirst()
            .orElse(Path.of("examples/python/dmabuf_consumer.py"));

    @Inject
    private BundleContext context;

    @Inject
    private DmaBufRegistry registry;

    @Inject
    private BufferChannels channels;

    @Configuration
    public Option[] config() {
        return new Option[] {DmabufOptions.base()};
    }

    /** Open fds of buffers: memfds and dma-bufs (not the exporters' device nodes, which a stopped bundle closes). */
    private static long bufferFds() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.map(p -> {
                try {
                    return Files.readSymbolicLink(p).toString();
                } catch (IOException e) {
                    return ""; // the listing's own fd, closed meanwhile
                }
            }).filter(t -> t.startsWith("/memfd:") || t.startsWith("/dmabuf:")).count();
        }
    }

    private Bundle bundle(String bsn) {
        for (Bundle b : context.getBundles()) {
            if (bsn.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError(bsn + " is not installed");
    }

    private void awaitExporter(String name) {
        Awaitility.await("an exporter named " + name).atMost(10, TimeUnit.SECONDS)
                .until(() -> registry.exporters().stream().anyMatch(e -> e.name().equals(name)));
    }

    /** Byte i of buffer 0 of the frame with tag t, as docs/wire-format.md and the Python consumer have it. */
    private static byte pattern(long tag, long i) {
        return (byte) (tag * 131 + i);
    }

    private static void signal(Process p, String signal) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start();
        assertTrue(kill.waitFor(30, TimeUnit.SECONDS));
        assertEquals("kill -" + signal, 0, kill.exitValue());
    }

    @Test
    public void theHeapExportersBundleStoppedWithFramesInFlightToAConsumerLeavesTheirDataIntactAndNothingOpen()
            throws Exception {
        awaitExporter("memfd");
        boolean python;
        try {
            python = new ProcessBuilder("python3", "--version").start().waitFor() == 0;
        } catch (IOException e) {
            python = false;
        }
        Assume.assumeTrue("python3 runs the consumer", python);
        assertTrue(CONSUMER.toAbsolutePath() + " is the consumer", Files.isRegularFile(CONSUMER));
        List<String> names = new ArrayList<>();
        for (String e : List.of("system", "udmabuf", "memfd")) {
            if (registry.exporters().stream().anyMatch(x -> x.name().equals(e))) {
                names.add(e);
            }
        }
        long fdsBefore = bufferFds();
        Path dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "fault-it");
        Bundle heap = bundle("org.dmabuf.exporter.heap");
        List<DmaBuf> sent = new ArrayList<>();
        Process consumer = null;
        try (ChannelListener listener = channels.listen(dir.resolve("run/fault.sock"), ChannelOptions.sameUser()
                .withReleases())) {
            consumer = new ProcessBuilder("python3", CONSUMER.toString(), listener.path().toString(), "--verify")
                    .redirectErrorStream(true).start();
            try (BufferChannel ch = listener.accept(java.time.Duration.ofSeconds(60))) {
                // the consumer stopped: every frame sent stays in flight, its fds in the socket, until it reads on
                signal(consumer, "STOP");
                long tag = 1;
                for (String e : names) {
                    for (int i = 0; i < 2; i++, tag++) {
                        DmaBuf b = registry.allocate(BufferRequest.ofSize(16384 + 4096 * i).name("inflight-" + tag)
                                .exporter(e));
                        try (CpuAccess w = b.beginCpuAccess(SyncDirection.WRITE)) {
                            byte[] all = new byte[(int) b.size()];
                            for (int k = 0; k < all.length; k++) {
                                all[k] = pattern(tag, k);
                            }
                            w.write(0, all, 0, all.length);
                        }
                        ch.send(b, tag, java.time.Duration.ofSeconds(30));
                        sent.add(b);
                    }
                }
                heap.stop();
                assertTrue("no heap exporter once its bundle stopped: " + registry.exporters(), registry.exporters()
                        .stream().noneMatch(x -> names.contains(x.name())));
                for (DmaBuf b : sent) {
                    assertEquals("the producer's handle and the frame's", 2, b.refCount());
                }
                signal(consumer, "CONT");
                Awaitility.await("every frame returned").atMost(60, TimeUnit.SECONDS)
                        .until(() -> ch.framesOut() == 0);
            }
            String out = new String(consumer.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(consumer.waitFor(60, TimeUnit.SECONDS));
            int n = sent.size();
            assertTrue("the consumer checked every byte of every frame; it said: " + out, out.contains("frames=" + n
                    + " ok=" + n + " torn=0 stale=0 unchecked=0 refused=0 released=" + n));
            for (DmaBuf b : sent) {
                assertEquals(1, b.refCount());
                try (CpuAccess r = b.beginCpuAccess(SyncDirection.READ)) {
                    assertEquals(pattern(Long.parseLong(b.name().substring("inflight-".length())), 4095),
                            r.getByte(4095));
                }
                b.put();
            }
            assertTrue("bufinfo empty: " + registry.bufinfo(), registry.bufinfo().isEmpty());
            assertEquals("buffer fds left", fdsBefore, bufferFds());
        } finally {
            if (consumer != null) {
                consumer.destroyForcibly();
                consumer.waitFor(30, TimeUnit.SECONDS);
            }
            if (heap.getState() != Bundle.ACTIVE) {
                heap.start();
            }
        }
        awaitExporter("memfd");
        System.out.println("heap bundle stopped with " + sent.size() + " frames in flight from " + names
                + ": every byte intact at the consumer");
    }

    @Test
    public void aClientBundleStoppedHasEveryBufferReleasedAtItsExporterAndNoFdLeft() throws Exception {
        AtomicInteger allocated = new AtomicInteger();
        AtomicInteger released = new AtomicInteger();
        DmaBufExporter counting = new DmaBufExporter() {
            @Override
            public ExportedBuffer allocate(AllocationRequest request) {
                var fd = Sys.memfd("itest-counting", LibC.MFD_ALLOW_SEALING);
                Sys.ftruncate(fd.get(), request.size());
                allocated.incrementAndGet();
                return new FdBuffer(fd, request.size(), org.dmabuf.api.BufferKind.MEMFD) {
                    @Override
                    public void release() {
                        released.incrementAndGet();
                        super.release();
                    }
                };
            }
        };
        Dictionary<String, Object> p = new Hashtable<>();
        p.put(DmaBufExporter.NAME, FaultClientActivator.EXPORTER);
        p.put(DmaBufExporter.KIND, DmaBufExporter.KIND_MEMFD);
        p.put(Constants.SERVICE_RANKING, -10);
        ServiceRegistration<DmaBufExporter> reg = context.registerService(DmaBufExporter.class, counting, p);
        Bundle client = null;
        try {
            awaitExporter(FaultClientActivator.EXPORTER);
            long fdsBefore = bufferFds();
            client = context.installBundle("itest:fault-client",
                    ClientBundles.of("itest.fault.client", FaultClientActivator.class));
            client.start();
            String owner = "itest.fault.client [" + client.getBundleId() + "]";
            List<BufferInfo> mine = registry.bufinfo().stream().filter(i -> owner.equals(i.owner())).toList();
            assertEquals(mine.toString(), 3, mine.size());
            assertEquals(3, allocated.get());
            assertEquals(0, released.get());
            assertEquals("the memfds of the client's buffers", fdsBefore + 3, bufferFds());

            client.stop();
            assertTrue("nothing of the client is left: " + registry.bufinfo(), registry.bufinfo().stream()
                    .noneMatch(i -> owner.equals(i.owner())));
            assertEquals("every buffer released at its exporter, once", 3, released.get());
            assertEquals("buffer fds left", fdsBefore, bufferFds());
        } finally {
            if (client != null) {
                client.uninstall();
            }
            reg.unregister();
        }
    }
}

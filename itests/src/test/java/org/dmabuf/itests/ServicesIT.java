package org.dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.inject.Inject;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferChannels;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.Device;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufEvents;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.DmaDirection;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.api.SgTable;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.itests.client.ClientActivator;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Sys;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;
import org.awaitility.Awaitility;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.event.Event;
import org.osgi.service.event.EventConstants;
import org.osgi.service.event.EventHandler;

/**
 * The runtime through services only: late allocation across exporter services, Gogo commands, EventAdmin events,
 * exporters and clients coming and going.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class ServicesIT {
    @Inject
    private BundleContext context;

    @Inject
    private DmaBufRegistry registry;

    @Inject
    private BufferChannels channels;

    @Inject
    private CommandProcessor gogo;

    @Configuration
    public Option[] config() {
        return new Option[] {DmabufOptions.base()};
    }

    /** A contiguous exporter registered from the test: sealed memfds that claim contiguity. */
    private ServiceRegistration<DmaBufExporter> registerContiguous() {
        DmaBufExporter cma = new DmaBufExporter() {
            @Override
            public ExportedBuffer allocate(AllocationRequest request) {
                var fd = Sys.memfd("itest-cma", LibC.MFD_ALLOW_SEALING);
                Sys.ftruncate(fd.get(), request.size());
                return new FdBuffer(fd, request.size(), org.dmabuf.api.BufferKind.MEMFD);
            }
        };
        Dictionary<String, Object> p = new Hashtable<>();
        p.put(DmaBufExporter.NAME, "itest-cma");
        p.put(DmaBufExporter.KIND, DmaBufExporter.KIND_MEMFD);
        p.put(DmaBufExporter.CONTIGUOUS, true);
        p.put(Constants.SERVICE_RANKING, 10);
        return context.registerService(DmaBufExporter.class, cma, p);
    }

    private void awaitExporter(String name) {
        Awaitility.await("an exporter named " + name + " in registry.exporters()").atMost(10, TimeUnit.SECONDS)
                .until(() -> registry.exporters().stream().anyMatch(e -> e.name().equals(name)));
    }

    @Test
    public void lateAllocationPicksTheExporterTheAttachedDeviceNeeds() throws Exception {
        awaitExporter("memfd");
        ServiceRegistration<DmaBufExporter> reg = registerContiguous();
        try {
            String best = registry.exporters().get(0).name();
            try (DmaBuf plain = registry.create(BufferRequest.ofSize(4096))) {
                plain.attach(Device.of("gpu", DeviceConstraints.NONE)).close();
                plain.mmap();
                assertEquals("no constraint: the best-ranked exporter", best, plain.exporterService().orElseThrow());
            }
            try (DmaBuf frame = registry.create(BufferRequest.ofSize(65536).name("isp-frame"))) {
                Attachment isp = frame.attach(Device.of("isp", DeviceConstraints.builder().contiguous(true).build()));
                try (SgTable sg = isp.map(DmaDirection.FROM_DEVICE)) {
                    assertEquals("itest-cma", frame.exporterService().orElseThrow());
                    assertEquals(65536, sg.segments().stream().mapToLong(s -> s.length()).sum());
                }
                try (CpuAccess w = frame.beginCpuAccess(SyncDirection.WRITE)) {
                    w.putLong(0, 7);
                }
                try (DmaBuf again = registry.get(frame.fd())) {
                    assertEquals(7, again.mmap().getLong(0));
                }
                isp.close();
            }
        } finally {
            reg.unregister();
        }
    }

    private String gogo(String command) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        CommandSession s = gogo.createSession(InputStream.nullInputStream(), ps, ps);
        try {
            Object r = s.execute(command);
            return (r == null ? "" : r.toString()) + out.toString(StandardCharsets.UTF_8);
        } finally {
            s.close();
        }
    }

    @Test
    public void gogoCommandsAllocateShareListAndRelease() throws Exception {
        awaitExporter("memfd");
        assertTrue(gogo("dmabuf:exporters"), gogo("dmabuf:exporters").matches("(?s).*memfd\\s+memfd\\s+100.*"));
        long before = registry.bufinfo().size();
        String alloc = gogo("dmabuf:alloc 65536 gogo-buf memfd");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("allocated inode (\\d+) size 65536 exporter memfd "
                + "kind memfd exp_name memfd id ((\\d+):(\\d+)/\\1)").matcher(alloc);
        assertTrue(alloc, m.matches());
        long inode = Long.parseLong(m.group(1));
        String id = m.group(2);
        String info = gogo("dmabuf:bufinfo");
        assertTrue(info, info.matches("(?s).*65536\\s+memfd\\s+memfd\\s+memfd\\s+" + m.group(3) + ":" + m.group(4)
                + "\\s+" + inode + "\\s+1\\s+gogo-buf\\s+org\\.dmabuf\\.core \\[\\d+\\].*Total " + (before + 1)
                + " objects.*"));

        Path dir = Files.createTempDirectory("gogo", PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwx------")));
        try (ChannelListener l = channels.listen(dir.resolve("share.sock"), ChannelOptions.sameUser())) {
            // by inode alone: one buffer held from the shell has it
            String shared = gogo("dmabuf:share " + inode + " " + l.path() + " 99");
            assertTrue(shared, shared.startsWith("shared inode " + inode + " (id " + id + ") with pid "));
            try (BufferChannel ch = l.accept(Duration.ofSeconds(10));
                 ReceivedBuffer r = ch.receive(Duration.ofSeconds(10))) {
                assertEquals(99, r.tag());
                assertEquals("gogo-buf", r.name());
                assertEquals(id, r.buffer().id().toString());
            }
        }
        assertEquals("released inode " + inode + " (id " + id + ")", gogo("dmabuf:release " + id));
        assertTrue(gogo("dmabuf:bufinfo").strip().contains("Total " + before + " objects"));
        assertTrue(gogo("dmabuf:release " + id).contains("no buffer with id or inode " + id));
    }

    @Test
    public void eventsTellOfBuffersAndExporters() throws Exception {
        awaitExporter("memfd");
        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        Dictionary<String, Object> p = new Hashtable<>();
        p.put(EventConstants.EVENT_TOPIC, DmaBufEvents.TOPIC_ALL);
        ServiceRegistration<EventHandler> h = context.registerService(EventHandler.class, events::add, p);
        try {
            try (DmaBuf b = registry.allocate(BufferRequest.ofSize(4096).name("evented").exporter("memfd"))) {
                b.attach(Device.of("watcher", DeviceConstraints.NONE)).close();
            }
            Event created = next(events, DmaBufEvents.TOPIC_BUFFER_CREATED);
            assertEquals("evented", created.getProperty(DmaBufEvents.NAME));
            assertEquals("memfd", created.getProperty(DmaBufEvents.EXPORTER));
            assertEquals("watcher", next(events, DmaBufEvents.TOPIC_BUFFER_ATTACHED).getProperty(DmaBufEvents.DEVICE));
            assertEquals("memfd", created.getProperty(DmaBufEvents.EXP_NAME));
            Event released = next(events, DmaBufEvents.TOPIC_BUFFER_RELEASED);
            assertEquals(created.getProperty(DmaBufEvents.INODE), released.getProperty(DmaBufEvents.INODE));
            assertEquals("the identity is (dev, inode)", created.getProperty(DmaBufEvents.DEV),
                    released.getProperty(DmaBufEvents.DEV));
            assertTrue("a memfd's st_dev is not 0", (Long) created.getProperty(DmaBufEvents.DEV) != 0L);
            ServiceRegistration<DmaBufExporter> cma = registerContiguous();
            assertEquals("itest-cma", next(events, DmaBufEvents.TOPIC_EXPORTER_ADDED)
                    .getProperty(DmaBufEvents.EXPORTER));
            cma.unregister();
            assertEquals("itest-cma", next(events, DmaBufEvents.TOPIC_EXPORTER_REMOVED)
                    .getProperty(DmaBufEvents.EXPORTER));
        } finally {
            h.unregister();
        }
    }

    private static Event next(BlockingQueue<Event> events, String topic) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<String> seen = new ArrayList<>();
        while (System.nanoTime() < deadline) {
            Event e = events.poll(100, TimeUnit.MILLISECONDS);
            if (e != null) {
                if (e.getTopic().equals(topic)) {
                    return e;
                }
                seen.add(e.getTopic());
            }
        }
        throw new AssertionError("no " + topic + " event within 10 s; saw " + seen);
    }

    private Bundle bundle(String bsn) {
        for (Bundle b : context.getBundles()) {
            if (bsn.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError(bsn + " is not installed");
    }

    @Test
    public void buffersOutliveTheirExporterBundleWhichRestarts() throws Exception {
        awaitExporter("memfd");
        Bundle heap = bundle("org.dmabuf.exporter.heap");
        DmaBuf b = registry.allocate(BufferRequest.ofSize(65536).name("survivor").exporter("memfd"));
        try (CpuAccess w = b.beginCpuAccess(SyncDirection.WRITE)) {
            w.putLong(100, 0xabcdL);
        }
        heap.stop();
        try {
            assertTrue("no heap exporter after the stop", registry.exporters().stream()
                    .noneMatch(e -> List.of("system", "udmabuf", "memfd").contains(e.name())));
            try (CpuAccess r = b.beginCpuAccess(SyncDirection.READ)) {
                assertEquals(0xabcdL, r.getLong(100));
            }
            assertEquals("memfd", find("survivor").exporter());
        } finally {
            heap.start();
        }
        awaitExporter("memfd");
        b.put();
        assertNull(find("survivor"));
        try (DmaBuf next = registry.allocate(BufferRequest.ofSize(4096).exporter("memfd"))) {
            assertEquals("memfd", next.exporterService().orElseThrow());
        }
    }

    @Test
    public void aClientBundleThatStopsHasEverythingReleased() throws Exception {
        awaitExporter("memfd");
        Bundle client = context.installBundle("itest:client",
                ClientBundles.of("itest.client", ClientActivator.class));
        client.start();
        String owner = "itest.client [" + client.getBundleId() + "]";
        Map<String, BufferInfo> before = new HashMap<>();
        for (BufferInfo i : registry.bufinfo()) {
            if (owner.equals(i.owner())) {
                before.put(i.name(), i);
            }
        }
        assertEquals(before.keySet().toString(), 2, before.size());
        assertEquals(List.of("client-dev"), before.get("client-b").attachedDevices());
        assertTrue(before.get("client-a").cpuMapped());
        client.stop();
        assertTrue("nothing of the client is left: " + registry.bufinfo(), registry.bufinfo().stream()
                .noneMatch(i -> owner.equals(i.owner())));
        client.start();
        assertEquals(2, registry.bufinfo().stream().filter(i -> owner.equals(i.owner())).count());
        client.uninstall();
        assertTrue(registry.bufinfo().stream().noneMatch(i -> owner.equals(i.owner())));
    }

    private BufferInfo find(String name) {
        return registry.bufinfo().stream().filter(i -> name.equals(i.name())).findFirst().orElse(null);
    }
}

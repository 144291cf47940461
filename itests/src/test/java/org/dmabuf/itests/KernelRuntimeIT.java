package org.dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import javax.inject.Inject;
import org.awaitility.Awaitility;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.ExporterInfo;
import org.dmabuf.api.Frame;
import org.dmabuf.api.FrameSource;
import org.dmabuf.api.ImporterDevice;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.Sys;
import org.junit.Test;
import org.junit.experimental.categories.Category;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * The bundles in Felix on the real kernel, in the guest: the heaps discovered, a DRM and a V4L2 device created
 * and removed through factory configurations, a heap buffer imported into vgem, a frame captured from vivid, and
 * the project's bufinfo against the kernel's debugfs {@code dma_buf/bufinfo} for buffers of every real exporter
 * (system heap, udmabuf, vgem dumb buffers, vivid's V4L2 buffers), without and with vgem attached in the kernel:
 * size, {@code exp_name}, name, inode and attached devices agree, and the identity is the fd's
 * ({@code st_dev}, {@code st_ino}).
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
@Category(KernelTests.class)
public class KernelRuntimeIT {
    private static final Path DEBUGFS_BUFINFO = Path.of("/sys/kernel/debug/dma_buf/bufinfo");

    @Inject
    private BundleContext context;

    @Inject
    private DmaBufRegistry registry;

    @Inject
    private ConfigurationAdmin configAdmin;

    @org.ops4j.pax.exam.Configuration
    public Option[] config() {
        return new Option[] {DmabufOptions.base(), DmabufOptions.testKit()};
    }

    /** Java in the guest is 5-15 times slower than on the host: the waits are longer. */
    private static void await(String what, java.util.function.BooleanSupplier condition) {
        Awaitility.await(what).atMost(60, TimeUnit.SECONDS).until(condition::getAsBoolean);
    }

    private boolean hasExporter(String name) {
        return registry.exporters().stream().anyMatch(e -> e.name().equals(name));
    }

    @Test
    public void theHeapsAreDiscoveredAndRankedAboveTheMemfdFallback() {
        await("the heap exporters", () -> hasExporter("system") && hasExporter("udmabuf") && hasExporter("memfd"));
        List<String> names = registry.exporters().stream().map(ExporterInfo::name)
                .filter(n -> List.of("system", "udmabuf", "memfd").contains(n)).toList();
        assertEquals("dma-heap, then udmabuf, then memfd", List.of("system", "udmabuf", "memfd"), names);
        try (DmaBuf b = registry.allocate(BufferRequest.ofSize(1 << 20).name("guest-itest"))) {
            assertEquals("system", b.exporterName().orElseThrow());
            try (CpuAccess w = b.beginCpuAccess(SyncDirection.WRITE)) {
                w.putLong(512, 0x1234L);
            }
            try (DmaBuf again = registry.get(b.fd()); CpuAccess r = again.beginCpuAccess(SyncDirection.READ)) {
                assertEquals(0x1234L, r.getLong(512));
            }
        }
    }

    /**
     * The exporter test kit, installed as a bundle, in the framework: the system heap and udmabuf exporters the heap
     * bundle discovered pass the contract with every check run (the kit reads their exp_name from their service
     * properties).
     */
    @Test
    public void theSystemHeapAndUdmabufExportersPassTheExporterContract() {
        await("the heap exporters", () -> hasExporter("system") && hasExporter("udmabuf"));
        for (String name : List.of("system", "udmabuf")) {
            org.dmabuf.testkit.ExporterContract contract = org.dmabuf.testkit.ExporterContract.of(registry, name);
            assertEquals("checks skipped for " + name, List.of(), contract.checks().stream()
                    .filter(c -> c.skipReason().isPresent()).map(Object::toString).toList());
            contract.verify();
        }
    }

    @Test
    public void aDrmFactoryConfigurationBringsVgemAsExporterAndImporter() throws Exception {
        Configuration c = configAdmin.getFactoryConfiguration("org.dmabuf.exporter.drm", "vgem", "?");
        Hashtable<String, Object> p = new Hashtable<>();
        p.put("dev.path", "/dev/dri/card0");
        c.update(p);
        try {
            await("the vgem exporter and importer", () -> hasExporter("drm:vgem:card0")
                    && context.getServiceReference(ImporterDevice.class) != null);
            ServiceReference<ImporterDevice> ref = context.getServiceReference(ImporterDevice.class);
            assertNotNull("the vgem importer device", ref);
            ImporterDevice vgem = context.getService(ref);
            assertEquals("vgem", vgem.name());
            try (DmaBuf heap = registry.allocate(BufferRequest.ofSize(65536).exporter("system"))) {
                Attachment a = heap.attach(vgem);
                assertTrue(a.imported(IntSupplier.class).getAsInt() > 0);
                a.close();
            }
            try (DmaBuf dumb = registry.allocate(BufferRequest.ofSize(65536).exporter("drm:vgem:card0"))) {
                try (CpuAccess w = dumb.beginCpuAccess(SyncDirection.READ_WRITE)) {
                    w.putInt(0, 5);
                    assertEquals(5, w.getInt(0));
                }
            }
            context.ungetService(ref);
        } finally {
            c.delete();
        }
        await("the vgem exporter is removed", () -> !hasExporter("drm:vgem:card0"));
    }

    @Test
    public void aV4l2FactoryConfigurationBringsACamera() throws Exception {
        Configuration c = configAdmin.getFactoryConfiguration("org.dmabuf.exporter.v4l2", "vivid", "?");
        Hashtable<String, Object> p = new Hashtable<>();
        p.put("dev.path", "/dev/video0");
        p.put("width", 320);
        p.put("height", 240);
        c.update(p);
        try {
            await("the camera", () -> context.getServiceReference(FrameSource.class) != null);
            ServiceReference<FrameSource> ref = context.getServiceReference(FrameSource.class);
            FrameSource camera = context.getService(ref);
            assertEquals("YUYV", camera.format().fourccName());
            assertEquals(180, camera.format().height());
            try (Frame f = camera.next(Duration.ofSeconds(60))) {
                assertNotNull("a frame from vivid", f);
                assertEquals(640L * 180, f.bytesUsed());
                assertEquals("v4l2:vivid:video0", f.buffer().exporterService().orElseThrow());
            }
            context.ungetService(ref);
        } finally {
            c.delete();
        }
        await("the camera is removed", () -> context.getServiceReference(FrameSource.class) == null
                && !hasExporter("v4l2:vivid:video0"));
    }

    @Test
    public void aCameraCanCaptureStraightIntoHeapBuffers() throws Exception {
        await("the system heap", () -> hasExporter("system"));
        Configuration c = configAdmin.getFactoryConfiguration("org.dmabuf.exporter.v4l2", "into-heap", "?");
        Hashtable<String, Object> p = new Hashtable<>();
        p.put("dev.path", "/dev/video1");
        p.put("width", 320);
        p.put("height", 240);
        p.put("capture.into", "system");
        c.update(p);
        try {
            await("the camera", () -> context.getServiceReference(FrameSource.class) != null);
            ServiceReference<FrameSource> ref = context.getServiceReference(FrameSource.class);
            FrameSource camera = context.getService(ref);
            try (Frame f = camera.next(Duration.ofSeconds(60))) {
                assertNotNull("a frame from vivid", f);
                assertEquals("zero copy into the heap", "system", f.buffer().exporterName().orElseThrow());
            }
            assertTrue("no V4L2 exporter in this mode", !hasExporter("v4l2:vivid:video1"));
            context.ungetService(ref);
        } finally {
            c.delete();
        }
        await("the camera is removed", () -> context.getServiceReference(FrameSource.class) == null);
    }

    /** One object of debugfs bufinfo. */
    record KernelBuf(long size, String expName, long inode, String name, List<String> devices) {
    }

    /**
     * Parses debugfs bufinfo as {@code dma_buf_debug_show()} prints it (6.12): a header line, then per object
     * {@code size flags mode count exp_name ino name} separated by tabs, fence lines, "\tAttached Devices:", one
     * "\tDEVICE" line each, and "Total N devices attached".
     */
    static Map<Long, KernelBuf> kernelBufinfo() throws IOException {
        List<String> lines = Files.readAllLines(DEBUGFS_BUFINFO);
        Map<Long, KernelBuf> out = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String[] c = lines.get(i).split("\t", 7);
            if (c.length < 7 || !c[0].matches("\\d+") || !c[5].matches("\\d+")) {
                continue;
            }
            List<String> devices = new ArrayList<>();
            int j = i + 1;
            while (j < lines.size() && !lines.get(j).equals("\tAttached Devices:")) {
                j++; // fences
            }
            for (j++; j < lines.size() && lines.get(j).startsWith("\t"); j++) {
                devices.add(lines.get(j).substring(1));
            }
            out.put(Long.parseLong(c[5]), new KernelBuf(Long.parseLong(c[0]), c[4], Long.parseLong(c[5]),
                    c[6].equals("<none>") ? "" : c[6], devices));
        }
        return out;
    }

    private Configuration factory(String pid, String name, Map<String, Object> props) throws IOException {
        Configuration c = configAdmin.getFactoryConfiguration(pid, name, "?");
        c.update(new Hashtable<>(props));
        return c;
    }

    /** Asserts that every dma-buf the project lists is in debugfs with the same values. */
    private void assertAgree(String when, Collection<DmaBuf> buffers) throws IOException {
        Map<Long, KernelBuf> kernel = kernelBufinfo();
        List<BufferInfo> project = registry.bufinfo();
        for (DmaBuf b : buffers) {
            BufferInfo p = project.stream().filter(i -> i.id().equals(b.id())).findFirst().orElse(null);
            assertNotNull(when + ": the project lists " + b, p);
            KernelBuf k = kernel.get(p.inode());
            assertNotNull(when + ": debugfs lists inode " + p.inode() + ":\n" + Files.readString(DEBUGFS_BUFINFO), k);
            String what = when + ", " + p.exporter() + " buffer '" + p.name() + "' (inode " + p.inode() + ")";
            assertEquals(what + ": size", k.size(), p.size());
            assertEquals(what + ": size", k.size(), b.size());
            assertEquals(what + ": exp_name", k.expName(), p.expName());
            assertEquals(what + ": exp_name", k.expName(), b.exporterName().orElseThrow());
            assertEquals(what + ": name", k.name(), p.name());
            assertEquals(what + ": attached devices", sorted(k.devices()), sorted(p.kernelDevices()));
            assertEquals(what + ": identity", Sys.fstat(b.fd()).id(), p.id());
        }
    }

    private static List<String> sorted(List<String> l) {
        return l.stream().sorted().toList();
    }

    @Test
    public void theProjectsBufinfoAgreesWithTheKernelsForEveryExporterWithAndWithoutImporters() throws Exception {
        await("the heap exporters", () -> hasExporter("system") && hasExporter("udmabuf"));
        Configuration vgem = factory("org.dmabuf.exporter.drm", "bufinfo-vgem", Map.of("dev.path", "/dev/dri/card0"));
        Configuration vivid = factory("org.dmabuf.exporter.v4l2", "bufinfo-vivid", Map.of("dev.path", "/dev/video0",
                "width", 320, "height", 240));
        List<DmaBuf> buffers = new ArrayList<>();
        ServiceReference<FrameSource> cameraRef = null;
        ServiceReference<ImporterDevice> importerRef = null;
        Frame frame = null;
        try {
            await("vgem and vivid", () -> hasExporter("drm:vgem:card0")
                    && context.getServiceReference(FrameSource.class) != null);
            // sizes that are not page multiples: the kernel's size is the project's
            buffers.add(registry.allocate(BufferRequest.ofSize(10000).name("cmp-system").exporter("system")));
            buffers.add(registry.allocate(BufferRequest.ofSize(10000).name("cmp-udmabuf").exporter("udmabuf")));
            buffers.add(registry.allocate(BufferRequest.ofSize(10000).name("cmp-vgem").exporter("drm:vgem:card0")));
            cameraRef = context.getServiceReference(FrameSource.class);
            frame = context.getService(cameraRef).next(Duration.ofSeconds(60));
            assertNotNull("a frame from vivid", frame);
            buffers.add(frame.buffer());
            for (DmaBuf b : buffers.subList(0, 3)) {
                assertTrue(b + " is larger than asked for", b.size() > b.requestedSize());
            }
            assertAgree("no importer", buffers);

            ImporterDevice importer = null;
            for (ServiceReference<ImporterDevice> r : context.getServiceReferences(ImporterDevice.class, null)) {
                ImporterDevice d = context.getService(r);
                if (importer == null && "vgem".equals(d.name())) {
                    importer = d;
                    importerRef = r;
                } else {
                    context.ungetService(r);
                }
            }
            assertNotNull("the vgem importer device", importer);
            assertEquals("the kernel's name of the vgem device", "vgem", importer.kernelName().orElseThrow());
            List<Attachment> attachments = new ArrayList<>();
            for (DmaBuf b : buffers) {
                attachments.add(b.attach(importer));
            }
            assertAgree("vgem attached", buffers);
            for (DmaBuf b : buffers) {
                // vgem importing its own dumb buffer gets its GEM object back: the kernel attaches nothing
                List<String> expected = b == buffers.get(2) ? List.of() : List.of("vgem");
                assertEquals(b + " attached in the kernel", expected, registry.bufinfo().stream()
                        .filter(i -> i.id().equals(b.id())).findFirst().orElseThrow().kernelDevices());
            }
            attachments.forEach(Attachment::close);
            assertAgree("vgem detached", buffers);
        } finally {
            if (frame != null) {
                frame.close();
            }
            buffers.subList(0, Math.min(3, buffers.size())).forEach(DmaBuf::close);
            if (importerRef != null) {
                context.ungetService(importerRef);
            }
            if (cameraRef != null) {
                context.ungetService(cameraRef);
            }
            vivid.delete();
            vgem.delete();
        }
        await("the devices are removed", () -> !hasExporter("drm:vgem:card0")
                && context.getServiceReference(FrameSource.class) == null);
    }
}

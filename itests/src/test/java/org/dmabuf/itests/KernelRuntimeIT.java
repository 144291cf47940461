package org.dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.time.Duration;
import java.util.Hashtable;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import javax.inject.Inject;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.ExporterInfo;
import org.dmabuf.api.Frame;
import org.dmabuf.api.FrameSource;
import org.dmabuf.api.ImporterDevice;
import org.dmabuf.api.SyncDirection;
import org.awaitility.Awaitility;
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
 * and removed through factory configurations, a heap buffer imported into vgem, a frame captured from vivid.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
@Category(KernelTests.class)
public class KernelRuntimeIT {
    @Inject
    private BundleContext context;

    @Inject
    private DmaBufRegistry registry;

    @Inject
    private ConfigurationAdmin configAdmin;

    @org.ops4j.pax.exam.Configuration
    public Option[] config() {
        return new Option[] {DmabufOptions.base()};
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
}

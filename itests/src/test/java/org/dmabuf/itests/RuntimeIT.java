package org.dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.inject.Inject;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.spi.DmaBufExporter;
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
import org.osgi.framework.FrameworkUtil;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;
import org.osgi.util.tracker.ServiceTracker;

/**
 * The bundles in Apache Felix with SCR: everything resolves, the core's components are active, and the registry
 * service is usable through services only.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class RuntimeIT {
    @Inject
    private BundleContext context;

    @Inject
    private ServiceComponentRuntime scr;

    @Inject
    private DmaBufRegistry registry;

    @Configuration
    public Option[] config() {
        return new Option[] {DmabufOptions.base()};
    }

    @Test
    public void everyBundleIsActive() {
        List<String> notActive = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            boolean fragment = b.getHeaders().get(Constants.FRAGMENT_HOST) != null;
            if (b.getState() != Bundle.ACTIVE && !(fragment && b.getState() == Bundle.RESOLVED)) {
                notActive.add(b.getSymbolicName() + " (state " + b.getState() + ")");
            }
        }
        assertTrue("bundles not active: " + notActive, notActive.isEmpty());
        List<String> names = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            names.add(b.getSymbolicName());
        }
        assertTrue(names.containsAll(Arrays.asList(DmabufOptions.PROJECT_BUNDLES)));
    }

    @Test
    public void theCoreComponentsAreActive() {
        Bundle core = bundle("org.dmabuf.core");
        ComponentDescriptionDTO registryDesc = scr.getComponentDescriptionDTO(core,
                "org.dmabuf.core.BufferRegistry");
        assertNotNull("BufferRegistry component", registryDesc);
        for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(registryDesc)) {
            assertEquals("BufferRegistry state", ComponentConfigurationDTO.ACTIVE, c.state);
        }
        ComponentDescriptionDTO serviceDesc = scr.getComponentDescriptionDTO(core,
                "org.dmabuf.core.RegistryService");
        assertNotNull("RegistryService component", serviceDesc);
        assertEquals("bundle", serviceDesc.scope);
        assertFalse(scr.getComponentConfigurationDTOs(serviceDesc).isEmpty());
        for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(serviceDesc)) {
            assertTrue("RegistryService state " + c.state, c.state == ComponentConfigurationDTO.ACTIVE
                    || c.state == ComponentConfigurationDTO.SATISFIED);
        }
        ComponentDescriptionDTO heap = scr.getComponentDescriptionDTO(bundle("org.dmabuf.exporter.heap"),
                "org.dmabuf.exporter.heap.HeapExporters");
        for (ComponentConfigurationDTO c : scr.getComponentConfigurationDTOs(heap)) {
            assertEquals("HeapExporters state", ComponentConfigurationDTO.ACTIVE, c.state);
        }
    }

    @Test
    public void aLateBufferIsListedWithThisBundleAsOwnerUntilPut() {
        DmaBuf buf = registry.create(BufferRequest.ofSize(4096).name("itest"));
        assertFalse(buf.isAllocated());
        BufferInfo info = find(registry.bufinfo(), "itest");
        assertNotNull("bufinfo lists the buffer", info);
        assertEquals("pending", info.kind());
        Bundle probe = FrameworkUtil.getBundle(RuntimeIT.class);
        assertEquals(probe.getSymbolicName() + " [" + probe.getBundleId() + "]", info.owner());
        buf.put();
        assertEquals(null, find(registry.bufinfo(), "itest"));
    }

    @Test
    public void aBufferFromTheMemfdExporterWorksThroughServicesOnly() throws Exception {
        ServiceTracker<DmaBufExporter, DmaBufExporter> memfd = new ServiceTracker<>(context,
                context.createFilter("(&(objectClass=" + DmaBufExporter.class.getName() + ")("
                        + DmaBufExporter.NAME + "=memfd))"), null);
        memfd.open();
        try {
            assertNotNull("the memfd exporter registers", memfd.waitForService(TimeUnit.SECONDS.toMillis(10)));
        } finally {
            memfd.close();
        }
        try (DmaBuf buf = registry.allocate(BufferRequest.ofSize(65536).name("itest-memfd").exporter("memfd"))) {
            assertEquals("memfd", buf.exporterName().orElseThrow());
            try (CpuAccess w = buf.beginCpuAccess(SyncDirection.WRITE)) {
                for (long off = 0; off < buf.size(); off += 8) {
                    w.putLong(off, off ^ 0x5a5a5a5aL);
                }
            }
            try (CpuAccess r = buf.beginCpuAccess(SyncDirection.READ)) {
                for (long off = 0; off < buf.size(); off += 8) {
                    assertEquals(off ^ 0x5a5a5a5aL, r.getLong(off));
                }
            }
            int fd = buf.fd();
            try (DmaBuf again = registry.get(fd)) {
                assertEquals(buf.inode(), again.inode());
                assertEquals(2, buf.refCount());
            }
            assertEquals(1, buf.refCount());
        }
        assertEquals(null, find(registry.bufinfo(), "itest-memfd"));
    }

    private Bundle bundle(String bsn) {
        for (Bundle b : context.getBundles()) {
            if (bsn.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError(bsn + " is not installed");
    }

    private static BufferInfo find(List<BufferInfo> infos, String name) {
        for (BufferInfo i : infos) {
            if (name.equals(i.name())) {
                return i;
            }
        }
        return null;
    }
}

package org.dmabuf.itests;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.awaitility.Awaitility.await;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.inject.Inject;
import org.dmabuf.api.BufferInfo;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.FileStat;
import org.dmabuf.linux.Sys;
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
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.wiring.BundleRevision;
import org.osgi.resource.Capability;
import org.osgi.resource.Namespace;
import org.osgi.resource.Requirement;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

/**
 * The bundles in Apache Felix with SCR: everything resolves and starts, the core's components are active, and the
 * registry service is usable through services only, with late allocation and with the memfd exporter.
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
    public void everyBundleIsActiveOrAResolvedFragment() {
        List<String> problems = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            boolean fragment = b.getHeaders().get(Constants.FRAGMENT_HOST) != null;
            int wanted = fragment ? Bundle.RESOLVED : Bundle.ACTIVE;
            if (b.getState() != wanted) {
                problems.add(b.getSymbolicName() + " " + b.getVersion() + ": " + state(b.getState())
                        + (b.getState() == Bundle.INSTALLED ? ", unresolved: " + unsatisfied(b) : ""));
            }
        }
        assertTrue("bundles not active (or fragments not resolved):\n  " + String.join("\n  ", problems),
                problems.isEmpty());
        List<String> names = Arrays.stream(context.getBundles()).map(Bundle::getSymbolicName).toList();
        for (String bsn : DmabufOptions.PROJECT_BUNDLES) {
            assertTrue(bsn + " is installed; bundles: " + names, names.contains(bsn));
        }
    }

    @Test
    public void theCoreComponentsAreSatisfiedOrActive() {
        Bundle core = bundle("org.dmabuf.core");
        // immediate: active as soon as it is satisfied
        assertComponent(core, "org.dmabuf.core.BufferRegistry", ComponentConfigurationDTO.ACTIVE);
        // a bundle-scope service: satisfied until someone gets it, active while a bundle (this probe) holds it
        assertComponent(core, "org.dmabuf.core.RegistryService", ComponentConfigurationDTO.SATISFIED,
                ComponentConfigurationDTO.ACTIVE);
        ComponentDescriptionDTO service = scr.getComponentDescriptionDTO(core, "org.dmabuf.core.RegistryService");
        assertEquals("RegistryService's service scope", "bundle", service.scope);
        assertTrue("RegistryService provides DmaBufRegistry: " + Arrays.toString(service.serviceInterfaces),
                Arrays.asList(service.serviceInterfaces).contains(DmaBufRegistry.class.getName()));
        // and the heap bundle's component, which registers the exporters
        assertComponent(bundle("org.dmabuf.exporter.heap"), "org.dmabuf.exporter.heap.HeapExporters",
                ComponentConfigurationDTO.ACTIVE);
    }

    @Test
    public void aLateBufferIsListedWithThisBundleAsOwnerUntilPut() {
        DmaBuf buf = registry.create(BufferRequest.ofSize(4096).name("itest"));
        try {
            assertFalse("no storage before first use", buf.isAllocated());
            BufferInfo info = find("itest");
            assertNotNull("bufinfo lists the buffer: " + registry.bufinfo(), info);
            assertEquals(4096, info.size());
            assertEquals("pending", info.kind());
            Bundle probe = FrameworkUtil.getBundle(RuntimeIT.class);
            assertEquals("the owner is the test probe", probe.getSymbolicName() + " [" + probe.getBundleId() + "]",
                    info.owner());
        } finally {
            buf.put();
        }
        assertNull("bufinfo no longer lists the buffer: " + registry.bufinfo(), find("itest"));
        assertEquals("a put buffer has no reference left", 0, buf.refCount());
    }

    @Test
    public void aBufferFromTheMemfdExporterIsWrittenReadSharedAndReleased() {
        await("an exporter named memfd in registry.exporters()").atMost(10, SECONDS)
                .until(() -> registry.exporters().stream().anyMatch(e -> e.name().equals("memfd")));
        DmaBuf buf = registry.allocate(BufferRequest.ofSize(64 * 1024).name("itest-memfd").exporter("memfd"));
        DmaBuf again = null;
        try {
            assertTrue(buf.isAllocated());
            assertEquals("memfd", buf.exporterName().orElseThrow());
            assertEquals(64 * 1024, buf.size());
            try (CpuAccess w = buf.beginCpuAccess(SyncDirection.WRITE)) {
                for (long off = 0; off < buf.size(); off += 8) {
                    w.putLong(off, pattern(off));
                }
            }
            try (CpuAccess r = buf.beginCpuAccess(SyncDirection.READ)) {
                for (long off = 0; off < buf.size(); off += 8) {
                    assertEquals("the pattern at offset " + off, pattern(off), r.getLong(off));
                }
            }
            int fd = buf.fd();
            FileStat st = Sys.fstat(fd); // throws naming the fd and errno if it is not open
            assertEquals("fstat(fd) names the buffer's inode", buf.inode(), st.inode());
            assertEquals(buf.size(), st.size());

            again = registry.get(fd);
            assertEquals("get(fd) finds the same buffer", buf.inode(), again.inode());
            assertEquals("two handles", 2, again.refCount());
            assertEquals(2, buf.refCount());
            try (CpuAccess r = again.beginCpuAccess(SyncDirection.READ)) {
                assertEquals("the same memory", pattern(4096), r.getLong(4096));
            }
        } finally {
            if (again != null) {
                again.put();
            }
            assertEquals("one handle left after the first put", 1, buf.refCount());
            buf.put();
        }
        assertEquals(0, buf.refCount());
        assertTrue("bufinfo is empty after both puts: " + registry.bufinfo(), registry.bufinfo().isEmpty());
    }

    private static long pattern(long offset) {
        return offset * 0x9e3779b97f4a7c15L ^ 0x5a5a5a5a5a5a5a5aL;
    }

    /** Asserts that the component has at least one configuration, each in one of the given states. */
    private void assertComponent(Bundle bundle, String name, int... states) {
        ComponentDescriptionDTO desc = scr.getComponentDescriptionDTO(bundle, name);
        assertNotNull(name + " is a component of " + bundle.getSymbolicName(), desc);
        assertTrue(name + " is enabled", scr.isComponentEnabled(desc));
        Collection<ComponentConfigurationDTO> configs = scr.getComponentConfigurationDTOs(desc);
        assertFalse(name + " has a configuration", configs.isEmpty());
        for (ComponentConfigurationDTO c : configs) {
            boolean ok = Arrays.stream(states).anyMatch(s -> s == c.state);
            assertTrue(name + " is " + componentState(c.state) + ", wanted "
                    + Arrays.stream(states).mapToObj(RuntimeIT::componentState).collect(Collectors.joining(" or "))
                    + (c.failure == null ? "" : "; failure: " + c.failure)
                    + (c.unsatisfiedReferences.length == 0 ? "" : "; unsatisfied references: "
                            + Arrays.stream(c.unsatisfiedReferences).map(u -> u.name + " (" + u.target + ")")
                                    .collect(Collectors.joining(", "))), ok);
        }
    }

    /** The mandatory requirements of an unresolved bundle that no installed bundle's capability matches. */
    private String unsatisfied(Bundle b) {
        BundleRevision rev = b.adapt(BundleRevision.class);
        if (rev == null) {
            return "no revision";
        }
        List<String> missing = new ArrayList<>();
        for (Requirement req : rev.getRequirements(null)) {
            Map<String, String> d = req.getDirectives();
            String effective = d.getOrDefault(Namespace.REQUIREMENT_EFFECTIVE_DIRECTIVE, Namespace.EFFECTIVE_RESOLVE);
            if (Namespace.RESOLUTION_OPTIONAL.equals(d.get(Namespace.REQUIREMENT_RESOLUTION_DIRECTIVE))
                    || !Namespace.EFFECTIVE_RESOLVE.equals(effective) || satisfiable(req)) {
                continue;
            }
            missing.add(req.getNamespace() + "; " + d.get(Namespace.REQUIREMENT_FILTER_DIRECTIVE));
        }
        return missing.isEmpty() ? "every requirement has a candidate (a uses conflict?)" : String.join(", ", missing);
    }

    private boolean satisfiable(Requirement req) {
        String filter = req.getDirectives().get(Namespace.REQUIREMENT_FILTER_DIRECTIVE);
        for (Bundle other : context.getBundles()) {
            BundleRevision rev = other.adapt(BundleRevision.class);
            if (rev == null) {
                continue;
            }
            for (Capability cap : rev.getCapabilities(req.getNamespace())) {
                try {
                    if (filter == null || FrameworkUtil.createFilter(filter).matches(cap.getAttributes())) {
                        return true;
                    }
                } catch (InvalidSyntaxException e) {
                    return false;
                }
            }
        }
        return false;
    }

    private static String state(int state) {
        return switch (state) {
            case Bundle.UNINSTALLED -> "UNINSTALLED";
            case Bundle.INSTALLED -> "INSTALLED";
            case Bundle.RESOLVED -> "RESOLVED";
            case Bundle.STARTING -> "STARTING";
            case Bundle.STOPPING -> "STOPPING";
            case Bundle.ACTIVE -> "ACTIVE";
            default -> "state " + state;
        };
    }

    private static String componentState(int state) {
        return switch (state) {
            case ComponentConfigurationDTO.UNSATISFIED_CONFIGURATION -> "UNSATISFIED_CONFIGURATION";
            case ComponentConfigurationDTO.UNSATISFIED_REFERENCE -> "UNSATISFIED_REFERENCE";
            case ComponentConfigurationDTO.SATISFIED -> "SATISFIED";
            case ComponentConfigurationDTO.ACTIVE -> "ACTIVE";
            case ComponentConfigurationDTO.FAILED_ACTIVATION -> "FAILED_ACTIVATION";
            default -> "state " + state;
        };
    }

    private Bundle bundle(String bsn) {
        for (Bundle b : context.getBundles()) {
            if (bsn.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError(bsn + " is not installed");
    }

    private BufferInfo find(String name) {
        return registry.bufinfo().stream().filter(i -> name.equals(i.name())).findFirst().orElse(null);
    }
}

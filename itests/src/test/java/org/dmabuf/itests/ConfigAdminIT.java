package org.dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Collection;
import java.util.Hashtable;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.inject.Inject;
import org.awaitility.Awaitility;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.runtime.ServiceComponentRuntime;
import org.osgi.service.component.runtime.dto.ComponentConfigurationDTO;
import org.osgi.service.component.runtime.dto.ComponentDescriptionDTO;

/**
 * Device exporters are factory-configured: a factory configuration creates a component instance for its device
 * path, deleting it removes the instance. This host has no DRM or V4L2 device, so the instance fails its
 * activation with the error that names the path, the ioctl and errno (the kernel guest runs the same exporters on
 * real devices); the metatype describes the configuration.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ConfigAdminIT {
    @Inject
    private BundleContext context;

    @Inject
    private ConfigurationAdmin configAdmin;

    @Inject
    private ServiceComponentRuntime scr;

    @org.ops4j.pax.exam.Configuration
    public Option[] config() {
        return new Option[] {DmabufOptions.base()};
    }

    private Bundle bundle(String bsn) {
        for (Bundle b : context.getBundles()) {
            if (bsn.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError(bsn + " is not installed");
    }

    private Collection<ComponentConfigurationDTO> instances(String bsn, String component) {
        ComponentDescriptionDTO d = scr.getComponentDescriptionDTO(bundle(bsn), component);
        return scr.getComponentConfigurationDTOs(d);
    }

    private static void await(String what, BooleanSupplier condition) {
        Awaitility.await(what).atMost(10, TimeUnit.SECONDS).until(condition::getAsBoolean);
    }

    @Test
    public void aFactoryConfigurationCreatesADrmInstanceAndDeletingItRemovesIt() throws Exception {
        String component = "org.dmabuf.exporter.drm.DrmExporterComponent";
        assertTrue("no instance without a configuration", instances("org.dmabuf.exporter.drm", component).isEmpty());
        Configuration c = configAdmin.getFactoryConfiguration("org.dmabuf.exporter.drm", "itest", "?");
        Hashtable<String, Object> p = new Hashtable<>();
        p.put("dev.path", "/dev/null");
        c.update(p);
        await("an instance for the configuration", () -> !instances("org.dmabuf.exporter.drm", component).isEmpty()
                && instances("org.dmabuf.exporter.drm", component).iterator().next().state
                        == ComponentConfigurationDTO.FAILED_ACTIVATION);
        ComponentConfigurationDTO dto = instances("org.dmabuf.exporter.drm", component).iterator().next();
        assertEquals("/dev/null", dto.properties.get("dev.path"));
        assertTrue(dto.failure, dto.failure.contains("ioctl(DRM_IOCTL_VERSION): ENOTTY: /dev/null"));
        c.delete();
        await("the instance is gone", () -> instances("org.dmabuf.exporter.drm", component).isEmpty());
    }

    @Test
    public void aV4l2ConfigurationForANodeThatCannotCaptureFailsNamingIt() throws Exception {
        String component = "org.dmabuf.exporter.v4l2.V4l2ExporterComponent";
        Configuration c = configAdmin.getFactoryConfiguration("org.dmabuf.exporter.v4l2", "itest", "?");
        Hashtable<String, Object> p = new Hashtable<>();
        p.put("dev.path", "/dev/video-none");
        c.update(p);
        await("a failed instance", () -> instances("org.dmabuf.exporter.v4l2", component).stream()
                .anyMatch(i -> i.state == ComponentConfigurationDTO.FAILED_ACTIVATION));
        ComponentConfigurationDTO dto = instances("org.dmabuf.exporter.v4l2", component).iterator().next();
        assertTrue(dto.failure, dto.failure.contains("open: ENOENT: /dev/video-none"));
        c.delete();
        await("the instance is gone", () -> instances("org.dmabuf.exporter.v4l2", component).isEmpty());
    }

    private java.util.Collection<org.osgi.framework.ServiceReference<org.dmabuf.spi.DmaBufExporter>> memfd() {
        try {
            return context.getServiceReferences(org.dmabuf.spi.DmaBufExporter.class, "(dmabuf.exporter.name=memfd)");
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new AssertionError(e);
        }
    }

    private boolean memfdRanked(int ranking) {
        var refs = memfd();
        return refs.size() == 1 && Integer.valueOf(ranking).equals(refs.iterator().next().getProperty("service.ranking"));
    }

    @Test
    public void heapExportersFollowTheirConfiguration() throws Exception {
        await("memfd registered", () -> memfdRanked(100));
        Configuration c = configAdmin.getConfiguration("org.dmabuf.exporter.heap", "?");
        Hashtable<String, Object> p = new Hashtable<>();
        p.put("memfd.ranking", 77);
        c.update(p);
        await("memfd re-registered with ranking 77", () -> memfdRanked(77));
        p.put("memfd.enabled", false);
        c.update(p);
        await("memfd gone when disabled", () -> memfd().isEmpty());
        c.delete();
        await("memfd back with its default ranking", () -> memfdRanked(100));
    }
}

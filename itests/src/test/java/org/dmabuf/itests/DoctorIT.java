package org.dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import javax.inject.Inject;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.awaitility.Awaitility;
import org.dmabuf.spi.MachineCheck;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;

/**
 * The machine check in OSGi: the DRM and V4L2 exporter bundles register their {@link MachineCheck} as plain DS
 * services without configuration (a whiteboard), and the Gogo command {@code dmabuf:doctor} reports their areas
 * with the core's own, as text and as JSON.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class DoctorIT {
    @Inject
    private BundleContext context;

    @Inject
    private CommandProcessor gogo;

    @Configuration
    public Option[] config() {
        return new Option[] {DmabufOptions.base()};
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
    public void theExporterBundlesChecksAreServicesAndTheGogoCommandReportsThem() throws Exception {
        Awaitility.await("the DRM and V4L2 machine checks registered").atMost(10, TimeUnit.SECONDS).until(() ->
                context.getServiceReferences(MachineCheck.class, null).size() == 2);
        Collection<ServiceReference<MachineCheck>> refs = context.getServiceReferences(MachineCheck.class, null);
        Set<String> bundles = new TreeSet<>();
        for (ServiceReference<MachineCheck> r : refs) {
            bundles.add(r.getBundle().getSymbolicName());
        }
        assertEquals(Set.of("org.dmabuf.exporter.drm", "org.dmabuf.exporter.v4l2"), bundles);

        String text = gogo("dmabuf:doctor");
        assertTrue(text, text.contains("memfd memfd: sealed memfds work"));
        assertTrue(text, text.matches("(?s).*\\[(OK|ABSENT|FAILED)\\] +drm +/dev/dri.*"));
        assertTrue(text, text.matches("(?s).*\\[(OK|ABSENT|FAILED)\\] +v4l2 +/dev/video.*"));
        assertFalse("the device checks were found: " + text, text.contains("no device checks are installed"));
        if (!Files.isDirectory(Path.of("/dev/dri"))) {
            assertTrue(text, text.contains("drm /dev/dri: load the GPU's DRM driver"));
        }
        assertTrue(text, text.contains("exit status 0"));

        String json = gogo("dmabuf:doctor --json");
        assertTrue(json, json.startsWith("{\"status\":0,\"shareable\":true,\"findings\":[{\"area\":\"kernel\""));
        assertTrue(json, json.contains("{\"area\":\"drm\",\"subject\":\"/dev/dri"));
        assertTrue(json, json.contains("{\"area\":\"v4l2\",\"subject\":\"/dev/video"));
    }
}

package org.dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import javax.inject.Inject;
import org.awaitility.Awaitility;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.testkit.ContractCheck;
import org.dmabuf.testkit.ExporterContract;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/**
 * The exporter test kit as an exporter bundle's author runs it in a framework: the kit installed as a bundle, the
 * contract run against the registry service, here for the memfd exporter (the kernel exporters:
 * {@link ExporterContractKernelIT}).
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class ExporterContractIT {
    @Inject
    private BundleContext context;

    @Inject
    private DmaBufRegistry registry;

    @Configuration
    public Option[] config() {
        return new Option[] {DmabufOptions.base(), DmabufOptions.testKit()};
    }

    private void awaitExporter(String name) {
        Awaitility.await("the exporter " + name).atMost(60, TimeUnit.SECONDS)
                .until(() -> registry.exporters().stream().anyMatch(e -> e.name().equals(name)));
    }

    @Test
    public void theKitIsAnActiveBundleExportingItsApi() {
        Bundle kit = Arrays.stream(context.getBundles()).filter(b -> "org.dmabuf.testkit".equals(b.getSymbolicName()))
                .findFirst().orElse(null);
        assertNotNull("the kit bundle is installed", kit);
        assertEquals("the kit bundle is active", Bundle.ACTIVE, kit.getState());
        assertTrue(kit.getHeaders().get("Export-Package").contains("org.dmabuf.testkit;version=\"1.0.0\""));
        assertEquals("the contract class comes from the kit bundle", kit,
                org.osgi.framework.FrameworkUtil.getBundle(ExporterContract.class));
    }

    @Test
    public void theMemfdExporterPassesTheContract() {
        awaitExporter("memfd");
        ExporterContract.of(registry, "memfd").verify();
    }

    @Test
    public void aSkippedCheckSaysWhyInTheFrameworkToo() {
        awaitExporter("memfd");
        ContractCheck frame = ExporterContract.of(registry, "memfd").supportsFrames(false).checks().stream()
                .filter(c -> c.skipReason().isPresent() && c.name().startsWith("a frame")).findFirst().orElseThrow();
        assertEquals("the exporter declared supportsFrames(false)", frame.skipReason().get());
    }
}

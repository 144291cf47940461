package org.dmabuf.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.eclipse.osgi.launch.EquinoxFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;
import org.osgi.resource.Resource;

/**
 * The repository's bundles, every one the index names and nothing else, installed and started in Equinox (the
 * framework of Eclipse and Kura): all become active, and the registry and the sealed-memfd exporter (the exporter
 * every Linux machine has) are registered as services. Felix is covered by the itests and the gateway.
 */
class EquinoxRepositoryTest {
    @TempDir
    Path storage;

    @Test
    void theIndexsBundlesStartInEquinoxAndTheRegistryAndTheMemfdExporterComeUp() throws Exception {
        Map<String, Resource> resources = RepositoryIndex.resources();
        Framework framework = new EquinoxFactory().newFramework(Map.of(
                Constants.FRAMEWORK_STORAGE, storage.toString(),
                Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT));
        framework.init();
        try {
            assertThat(framework.getSymbolicName()).isEqualTo("org.eclipse.osgi");
            BundleContext context = framework.getBundleContext();
            List<Bundle> installed = new ArrayList<>();
            for (Resource resource : resources.values()) {
                installed.add(context.installBundle(RepositoryIndex.jar(resource).toUri().toString()));
            }
            framework.start();
            for (Bundle bundle : installed) {
                if (bundle.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                    bundle.start();
                }
            }
            assertThat(installed).allSatisfy(b -> assertThat(b.getState()).as(b.getSymbolicName())
                    .isEqualTo(Bundle.ACTIVE));

            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                assertThat(services(context, "org.dmabuf.api.DmaBufRegistry", null)).as("the registry").hasSize(1);
                assertThat(services(context, "org.dmabuf.spi.DmaBufExporter", "(dmabuf.exporter.name=memfd)"))
                        .as("the sealed-memfd exporter").hasSize(1);
            });
            ServiceReference<?> registry = services(context, "org.dmabuf.api.DmaBufRegistry", null).get(0);
            assertThat(registry.getBundle().getSymbolicName()).isEqualTo("org.dmabuf.core");
        } finally {
            framework.stop();
            assertThat(framework.waitForStop(60_000).getType()).isEqualTo(org.osgi.framework.FrameworkEvent.STOPPED);
        }
    }

    private static List<ServiceReference<?>> services(BundleContext context, String type, String filter)
            throws Exception {
        ServiceReference<?>[] refs = context.getAllServiceReferences(type, filter);
        return refs == null ? List.of() : Arrays.asList(refs);
    }
}

package org.dmabuf.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.util.Set;
import java.util.TreeSet;
import javax.inject.Inject;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.namespace.PackageNamespace;
import org.osgi.framework.wiring.BundleWire;
import org.osgi.framework.wiring.BundleWiring;

/**
 * The layering as the framework wired it: an exporter bundle gets its packages from {@code org.dmabuf.api} and the
 * Linux layer ({@code org.dmabuf.linux}) only, never from the registry ({@code org.dmabuf.core}), and the Linux layer
 * from the api and JNA only. Read from each bundle's {@link BundleWiring}, not from the manifests: what the resolver
 * did is the judge.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class LayeringIT {
    private static final Set<String> EXPORTERS = Set.of("org.dmabuf.exporter.heap", "org.dmabuf.exporter.drm",
            "org.dmabuf.exporter.v4l2");

    @Inject
    private BundleContext context;

    @Configuration
    public Option[] config() {
        return new Option[] {DmabufOptions.base()};
    }

    @Test
    public void exporterBundlesAreWiredToTheApiAndTheLinuxLayerOnlyNeverToTheRegistry() {
        for (String exporter : EXPORTERS) {
            Set<String> providers = packageProviders(exporter, "org.dmabuf.");
            assertEquals(exporter + " gets the project's packages from", Set.of("org.dmabuf.api", "org.dmabuf.linux"),
                    providers);
        }
    }

    @Test
    public void theLinuxLayerIsWiredToTheApiAndJnaOnly() {
        Set<String> providers = packageProviders("org.dmabuf.linux", "");
        providers.remove(context.getBundle(0).getSymbolicName());
        assertEquals("org.dmabuf.linux gets its packages from", Set.of("org.dmabuf.api", "com.sun.jna"), providers);
    }

    @Test
    public void theRegistryGetsTheLinuxLayerFromItsOwnBundle() {
        Set<String> providers = packageProviders("org.dmabuf.core", "org.dmabuf.");
        assertTrue("org.dmabuf.core is wired to org.dmabuf.linux: " + providers, providers.contains("org.dmabuf.linux"));
    }

    /** The symbolic names of the bundles that {@code symbolicName}'s package imports are wired to. */
    private Set<String> packageProviders(String symbolicName, String providerPrefix) {
        Bundle bundle = bundle(symbolicName);
        BundleWiring wiring = bundle.adapt(BundleWiring.class);
        assertNotNull(symbolicName + " is resolved", wiring);
        Set<String> providers = new TreeSet<>();
        for (BundleWire wire : wiring.getRequiredWires(PackageNamespace.PACKAGE_NAMESPACE)) {
            String provider = wire.getProviderWiring().getBundle().getSymbolicName();
            if (provider.startsWith(providerPrefix)) {
                providers.add(provider);
            }
        }
        return providers;
    }

    private Bundle bundle(String symbolicName) {
        for (Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("no bundle " + symbolicName + " is installed");
    }
}

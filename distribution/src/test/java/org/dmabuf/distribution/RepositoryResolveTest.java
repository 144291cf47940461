package org.dmabuf.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import aQute.bnd.osgi.repository.SimpleIndexer;
import aQute.bnd.osgi.resource.ResourceUtils;
import biz.aQute.resolve.Bndrun;
import biz.aQute.resolve.RunResolution;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.resource.Resource;

/**
 * The repository's index resolves: bnd's resolver, as a bnd workspace or a Felix/Equinox/Kura tool would run it,
 * finds in the index alone (plus a framework) everything the heap exporter and the registry need to become active
 * (effective:=active: the services they require too), and says what is missing when a bundle is not there.
 */
class RepositoryResolveTest {
    @TempDir
    Path tmp;

    /** The Felix framework, in an index of its own: what the resolver resolves against, not a bundle to install. */
    private Path frameworkIndex() throws Exception {
        File felix = new File(System.getProperty("felix.framework.jar"));
        assertThat(felix).as("the Felix framework jar the pom copies").isFile();
        Path index = tmp.resolve("framework.xml");
        new SimpleIndexer().files(List.of(felix)).base(tmp.toUri()).name("framework").index(index.toFile());
        return index;
    }

    private RunResolution resolve(Path repository, String... bundles) throws Exception {
        Path bndrun = tmp.resolve("resolve.bndrun");
        String requires = java.util.Arrays.stream(bundles).map(b -> "bnd.identity;id=" + b)
                .collect(Collectors.joining(","));
        Files.writeString(bndrun, String.join("\n",
                "-standalone: " + repository.toUri() + ";name=dmabuf," + frameworkIndex().toUri() + ";name=framework",
                "-runfw: org.apache.felix.framework",
                "-runee: JavaSE-17",
                "-resolve.effective: active",
                "-runrequires: " + requires, ""), StandardCharsets.UTF_8);
        try (Bndrun run = Bndrun.createBndrun(null, bndrun.toFile())) {
            assertThat(run.getErrors()).as("the bndrun's setup").isEmpty();
            return run.resolve();
        }
    }

    private static List<String> identities(RunResolution resolution) {
        return resolution.required.keySet().stream().map(ResourceUtils::getIdentity).sorted().toList();
    }

    @Test
    void theHeapExporterAndTheRegistryResolveFromTheIndexWithTheServicesTheyNeed() throws Exception {
        RunResolution resolution = resolve(RepositoryIndex.index(), "org.dmabuf.exporter.heap", "org.dmabuf.core");
        assertThat(resolution.isOK()).as(resolution.report(true)).isTrue();
        assertThat(identities(resolution)).as(resolution.report(true)).contains("org.dmabuf.api", "org.dmabuf.linux",
                "org.dmabuf.core", "org.dmabuf.exporter.heap", "com.sun.jna", "org.apache.felix.scr", "org.apache.felix.eventadmin",
                "org.osgi.util.promise", "org.osgi.util.function");
    }

    /**
     * An exporter's code needs the api and the Linux layer, never the registry's: resolved alone, the packages it
     * imports are wired to org.dmabuf.api and org.dmabuf.linux only. (The V4L2 exporter also requires the
     * {@code DmaBufRegistry} service, to capture into other exporters' buffers: a service, which core provides, not
     * a package.)
     */
    @Test
    void anExportersPackagesComeFromTheApiAndTheLinuxLayerNeverFromTheRegistry() throws Exception {
        for (String exporter : List.of("org.dmabuf.exporter.heap", "org.dmabuf.exporter.drm",
                "org.dmabuf.exporter.v4l2")) {
            RunResolution resolution = resolve(RepositoryIndex.index(), exporter);
            assertThat(resolution.isOK()).as(resolution.report(true)).isTrue();
            java.util.Set<String> providers = new java.util.TreeSet<>();
            resolution.required.forEach((resource, wires) -> wires.stream()
                    .filter(w -> exporter.equals(ResourceUtils.getIdentity(w.getRequirer())))
                    .filter(w -> w.getCapability().getNamespace().equals("osgi.wiring.package"))
                    .map(w -> ResourceUtils.getIdentity(w.getProvider()))
                    .filter(id -> id.startsWith("org.dmabuf."))
                    .forEach(providers::add));
            assertThat(providers).as(exporter + "'s packages come from").containsExactly("org.dmabuf.api",
                    "org.dmabuf.linux");
        }
    }

    @Test
    void everyBundleOfTheIndexResolvesTogether() throws Exception {
        Map<String, Resource> all = RepositoryIndex.resources();
        assertThat(all).containsKeys("org.dmabuf.api", "org.dmabuf.linux", "org.dmabuf.core",
                "org.dmabuf.exporter.heap", "org.dmabuf.exporter.drm", "org.dmabuf.exporter.v4l2",
                "org.dmabuf.status", "org.dmabuf.testkit");
        RunResolution resolution = resolve(RepositoryIndex.index(), all.keySet().toArray(String[]::new));
        assertThat(resolution.isOK()).as(resolution.report(true)).isTrue();
        assertThat(identities(resolution)).containsAll(all.keySet());
    }

    @Test
    void aRepositoryWithoutJnaDoesNotResolveAndTheResolverNamesWhatIsMissing() throws Exception {
        // the same bundles, JNA left out: an index the test makes as the build does
        List<File> jars = RepositoryIndex.resources().entrySet().stream().filter(e -> !e.getKey().equals("com.sun.jna"))
                .map(e -> RepositoryIndex.jar(e.getValue()).toFile()).toList();
        Path partial = tmp.resolve("partial.xml");
        new SimpleIndexer().files(jars).base(tmp.toUri()).name("partial").index(partial.toFile());

        RunResolution resolution = resolve(partial, "org.dmabuf.exporter.heap", "org.dmabuf.core");
        assertThat(resolution.isOK()).isFalse();
        assertThat(resolution.report(true)).contains("com.sun.jna");
    }
}

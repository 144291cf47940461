package org.dmabuf.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.module.Configuration;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The product jars on the module path: each names its module in its manifest ({@code Automatic-Module-Name}, the
 * artifactId, not a name guessed from the file name), no two share a package (the resolver refuses split
 * packages), and the exporters' {@link org.dmabuf.spi.ExporterProvider}s are services of their automatic modules,
 * so {@link java.util.ServiceLoader} finds them in a module layer.
 */
class ModulePathTest {
    private static final Set<String> PRODUCT = Set.of("org.dmabuf.api", "org.dmabuf.linux", "org.dmabuf.core",
            "org.dmabuf.exporter.heap", "org.dmabuf.exporter.drm", "org.dmabuf.exporter.v4l2");

    @Test
    void everyProductJarNamesItsModuleAfterItsArtifact() throws Exception {
        Map<String, String> names = new java.util.TreeMap<>();
        for (Path jar : ReadmeExample.jars()) {
            String file = jar.getFileName().toString();
            if (file.startsWith("org.dmabuf.")) {
                String artifact = file.substring(0, file.indexOf('-'));
                try (JarFile j = new JarFile(jar.toFile())) {
                    names.put(artifact, j.getManifest().getMainAttributes().getValue("Automatic-Module-Name"));
                }
            }
        }
        assertThat(names.keySet()).containsExactlyInAnyOrderElementsOf(PRODUCT);
        names.forEach((artifact, module) -> assertThat(module).as(artifact).isEqualTo(artifact));
    }

    @Test
    void theJarsResolveAsModulesWithoutSplitPackagesAndProvideTheExporters() throws Exception {
        ModuleFinder finder = ModuleFinder.of(ReadmeExample.jars().toArray(Path[]::new));
        Set<String> all = finder.findAll().stream().map(r -> r.descriptor().name()).collect(Collectors.toSet());
        assertThat(all).containsAll(PRODUCT).contains("com.sun.jna");
        Configuration cf = ModuleLayer.boot().configuration().resolveAndBind(finder, ModuleFinder.of(), all);
        ModuleLayer layer = ModuleLayer.boot().defineModulesWithOneLoader(cf, ClassLoader.getPlatformClassLoader());
        Map<String, List<String>> provided = finder.findAll().stream().map(ModuleReference::descriptor)
                .filter(d -> !d.provides().isEmpty()).collect(Collectors.toMap(d -> d.name(),
                        d -> d.provides().stream().flatMap(p -> p.providers().stream()).toList()));
        assertThat(provided).containsOnlyKeys("org.dmabuf.exporter.heap", "org.dmabuf.exporter.drm",
                "org.dmabuf.exporter.v4l2");
        Class<?> spi = layer.findLoader("org.dmabuf.api").loadClass("org.dmabuf.spi.ExporterProvider");
        List<String> found = java.util.ServiceLoader.load(layer, spi).stream().map(p -> p.type().getName())
                .sorted().toList();
        assertThat(found).containsExactly("org.dmabuf.exporter.drm.DrmExporterProvider",
                "org.dmabuf.exporter.heap.HeapExporterProvider", "org.dmabuf.exporter.v4l2.V4l2ExporterProvider");
    }
}

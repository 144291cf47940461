package org.dmabuf.exporter.drm;

import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.dmabuf.core.BadInputCase;
import org.dmabuf.core.BadInputTable;
import org.dmabuf.core.DmaBufs;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The bad-input table's rows of a DRM node's configuration ({@link BadInputTable}), on any host: a {@code dev.path}
 * that is absent, empty, a folder or no DRM node fails the device's registration naming the path, with nothing open;
 * through the plain-Java entry point ({@link DmaBufs}), a configuration without {@code dev.path} or without a name.
 */
class BadInputConfigTest {
    private final Map<String, BadInputCase.Body> bodies = new HashMap<>();

    BadInputConfigTest() {
        bodies.put("drm-20", c -> register(c, "/dev/dri/card9"));
        bodies.put("drm-21", c -> register(c, "/dev/null"));
        bodies.put("drm-22", c -> register(c, ""));
        bodies.put("drm-23", c -> register(c, "/"));
        // plain Java: the provider found on the class path, as a program gets it
        bodies.put("java-01", c -> c.fails(() -> DmaBufs.builder().owner("bad-input")
                .configure(DrmExporterComponent.PID + "~gpu", Map.of("service.ranking", 150)).open(),
                DrmExporterComponent.PID + "~gpu"));
        bodies.put("java-06", c -> c.fails(() -> DmaBufs.builder().owner("bad-input")
                .configure(DrmExporterComponent.PID, Map.of("dev.path", "/dev/dri/card0")).open()));
    }

    /** What {@code activate} does with the configuration: no service is registered before the node proved DRM. */
    private static void register(BadInputCase.Check c, String path) {
        c.fails(() -> DrmExporterComponent.Registered.of(null, path, 150));
    }

    @TestFactory
    Stream<DynamicTest> badInput() {
        return BadInputTable.rows("exporter-drm", "host").stream().map(r -> DynamicTest.dynamicTest(r.id() + ": "
                + r.input(), () -> r.run(bodies.get(r.id()), "/dev/dri/", "/dmabuf:")));
    }

    @Test
    void everyHostRowOfTheModuleHasABody() {
        BadInputTable.checkBodies("exporter-drm", "host", bodies.keySet());
    }
}

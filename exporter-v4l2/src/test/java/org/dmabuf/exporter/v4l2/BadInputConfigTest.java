package org.dmabuf.exporter.v4l2;

import java.lang.reflect.Proxy;
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
 * The bad-input table's rows of a V4L2 node's configuration ({@link BadInputTable}), on any host: the component's
 * activation refuses a node that is absent or no V4L2 node, and values no node could serve, naming the node; the
 * plain-Java entry point ({@link DmaBufs}) a configuration without {@code dev.path} or with a value that does not
 * convert, naming the configuration and the property.
 */
class BadInputConfigTest {
    private final Map<String, BadInputCase.Body> bodies = new HashMap<>();

    BadInputConfigTest() {
        bodies.put("v4l2-20", c -> activate(c, Map.of("dev_path", "/dev/null")));
        bodies.put("v4l2-21", c -> activate(c, Map.of("dev_path", "/dev/video9")));
        bodies.put("v4l2-22", c -> activate(c, Map.of("dev_path", "/dev/video9", "width", -1)));
        bodies.put("v4l2-23", c -> activate(c, Map.of("dev_path", "/dev/video9", "height", 0)));
        bodies.put("v4l2-24", c -> activate(c, Map.of("dev_path", "/dev/video9", "buffer_count", 0)));
        bodies.put("v4l2-25", c -> activate(c, Map.of("dev_path", "/dev/video9", "pixel_format", "YUYVX")));
        // plain Java: the provider found on the class path, as a program gets it
        bodies.put("java-02", c -> c.fails(() -> DmaBufs.builder().owner("bad-input")
                .configure(V4l2ExporterComponent.PID + "~camera", Map.of("width", 640)).open(),
                V4l2ExporterComponent.PID + "~camera"));
        bodies.put("java-04", c -> c.fails(() -> DmaBufs.builder().owner("bad-input")
                .configure(V4l2ExporterComponent.PID + "~camera", Map.of("dev.path", "/dev/video9", "width", "wide"))
                .open()));
    }

    /** Activates the component with a configuration: the defaults of {@link V4l2ExporterComponent.Config}, and these. */
    private static void activate(BadInputCase.Check c, Map<String, Object> values) {
        V4l2ExporterComponent.Config config = (V4l2ExporterComponent.Config) Proxy.newProxyInstance(
                V4l2ExporterComponent.Config.class.getClassLoader(), new Class<?>[] {V4l2ExporterComponent.Config.class},
                (proxy, method, args) -> values.containsKey(method.getName()) ? values.get(method.getName())
                        : method.getDefaultValue());
        c.fails(() -> {
            new V4l2ExporterComponent().activate(null, config);
            return null;
        }, (String) values.get("dev_path"));
    }

    @TestFactory
    Stream<DynamicTest> badInput() {
        return BadInputTable.rows("exporter-v4l2", "host").stream().map(r -> DynamicTest.dynamicTest(r.id() + ": "
                + r.input(), () -> r.run(bodies.get(r.id()), "/dev/video", "/dmabuf:")));
    }

    @Test
    void everyHostRowOfTheModuleHasABody() {
        BadInputTable.checkBodies("exporter-v4l2", "host", bodies.keySet());
    }
}

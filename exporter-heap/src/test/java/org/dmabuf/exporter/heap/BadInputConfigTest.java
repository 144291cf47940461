package org.dmabuf.exporter.heap;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.core.BadInputCase;
import org.dmabuf.core.BadInputTable;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.spi.DmaBufExporter;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The bad-input table's rows of the heap exporters' configuration ({@link BadInputTable}), on any host: a heap or
 * udmabuf path that names no such node, or a node of another kind ({@code /dev/null}), is refused naming the path.
 */
class BadInputConfigTest {
    private static final String[] MAPS = {"/dmabuf:", "/memfd:"};
    private final Map<String, BadInputCase.Body> bodies = new HashMap<>();

    BadInputConfigTest() {
        bodies.put("heap-22", c -> {
            try (DmaHeapExporter notAHeap = new DmaHeapExporter("/dev/null")) {
                allocate(c, notAHeap, notAHeap.properties(300));
            }
        });
        bodies.put("heap-23", c -> {
            try (UdmabufExporter notUdmabuf = new UdmabufExporter("/dev/null")) {
                allocate(c, notUdmabuf, notUdmabuf.properties(200));
            }
        });
        bodies.put("heap-24", c -> c.fails(() -> new UdmabufExporter("/nonexistent/udmabuf")));
        bodies.put("heap-25", c -> c.fails(() -> new DmaHeapExporter("/nonexistent/dma_heap/system")));
    }

    private static void allocate(BadInputCase.Check c, DmaBufExporter e, Map<String, Object> props) {
        try (StandaloneRegistry r = new StandaloneRegistry("bad-input").addExporter(e, props)) {
            c.fails(() -> r.allocate(BufferRequest.ofSize(4096)));
            assertThat(r.bufinfo()).isEmpty();
        }
    }

    @TestFactory
    Stream<DynamicTest> badInput() {
        return BadInputTable.rows("exporter-heap", "host").stream().map(r -> DynamicTest.dynamicTest(r.id() + ": "
                + r.input(), () -> r.run(bodies.get(r.id()), MAPS)));
    }

    @Test
    void everyHostRowOfTheModuleHasABody() {
        BadInputTable.checkBodies("exporter-heap", "host", bodies.keySet());
    }
}

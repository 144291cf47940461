package org.dmabuf.exporter.heap;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.core.BadInputCase;
import org.dmabuf.core.BadInputTable;
import org.dmabuf.core.DmaBufs;
import org.dmabuf.core.StandaloneRegistry;
import org.dmabuf.spi.DmaBufExporter;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The bad-input table's rows of the heap exporters' configuration ({@link BadInputTable}), on any host: a heap or
 * udmabuf path that names no such node, or a node of another kind ({@code /dev/null}), is refused naming the path;
 * through the plain-Java entry point ({@link DmaBufs}), a value that does not convert, a {@code ~NAME} on a PID that
 * is no factory, and {@code dmaheap.contiguous} names no heap can have, refused before any node is opened.
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
        // plain Java: the provider found on the class path, as a program gets it
        bodies.put("java-03", c -> open(c, HeapExporters.PID, Map.of("dmaheap.ranking", "high")));
        bodies.put("java-07", c -> open(c, HeapExporters.PID + "~x", Map.of()));
        bodies.put("names-01", c -> contiguous(c, ""));
        bodies.put("names-02", c -> contiguous(c, ".."));
        bodies.put("names-03", c -> contiguous(c, "a/b"));
        bodies.put("names-04", c -> contiguous(c, "bad\u0001name"));
        bodies.put("names-05", c -> contiguous(c, "x".repeat(256)));
    }

    /** Opens {@link DmaBufs} with one configuration: the error names it. */
    private static void open(BadInputCase.Check c, String pid, Map<String, Object> properties) {
        c.fails(() -> DmaBufs.builder().owner("bad-input").configure(pid, properties).open(), pid);
    }

    /** {@code dmaheap.contiguous} of a name no heap can have, as a .cfg file's value gives it (a String). */
    private static void contiguous(BadInputCase.Check c, String name) {
        open(c, HeapExporters.PID, Map.of("dmaheap.contiguous", name));
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

package org.dmabuf.exporter.heap;

import java.util.Map;
import org.dmabuf.spi.DmaBufExporter;

/**
 * The heap module's exporters for a plain Java program (the benchmarks): outside OSGi their classes are
 * package-private, so this class, in their package on the class path, makes them. Not part of any bundle.
 */
public final class BenchmarkExporters {
    private BenchmarkExporters() {
    }

    /** An exporter and the service properties it would register with. */
    public record Made(DmaBufExporter exporter, Map<String, Object> properties) {
    }

    /** @return the sealed-memfd exporter, ranking 100 */
    public static Made memfd() {
        return new Made(new MemfdExporter(), MemfdExporter.properties(100));
    }

    /**
     * @param node a dma-heap node, e.g. /dev/dma_heap/system
     * @return its exporter, ranking 300 (close it when done)
     */
    public static Made dmaHeap(String node) {
        DmaHeapExporter e = new DmaHeapExporter(node);
        return new Made(e, e.properties(300));
    }

    /** @return the udmabuf exporter on /dev/udmabuf, ranking 300 (close it when done) */
    public static Made udmabuf() {
        UdmabufExporter e = new UdmabufExporter("/dev/udmabuf");
        return new Made(e, e.properties(300));
    }
}

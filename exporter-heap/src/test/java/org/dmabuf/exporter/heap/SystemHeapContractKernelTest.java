package org.dmabuf.exporter.heap;

import org.dmabuf.testkit.ContractRegistry;
import org.dmabuf.testkit.ExporterContract;
import org.dmabuf.testkit.junit5.ExporterContractTest;
import org.junit.jupiter.api.Tag;

/** The system dma-heap exporter passes the exporter contract, in the kernel guest. */
@Tag("kernel")
class SystemHeapContractKernelTest extends ExporterContractTest {
    private final DmaHeapExporter heap = new DmaHeapExporter("/dev/dma_heap/system");
    private final ContractRegistry registry = ContractRegistry.of(heap, heap.properties(300));

    @Override
    protected ExporterContract contract() {
        return ExporterContract.of(registry.registry(), "system");
    }

    @Override
    protected void closeContract() {
        registry.close();
        heap.close();
    }
}

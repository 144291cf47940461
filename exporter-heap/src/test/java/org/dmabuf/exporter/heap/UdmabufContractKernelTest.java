package org.dmabuf.exporter.heap;

import org.dmabuf.testkit.ContractRegistry;
import org.dmabuf.testkit.ExporterContract;
import org.dmabuf.testkit.junit5.ExporterContractTest;
import org.junit.jupiter.api.Tag;

/** The udmabuf exporter (memfd pages as a dma-buf) passes the exporter contract, in the kernel guest. */
@Tag("kernel")
class UdmabufContractKernelTest extends ExporterContractTest {
    private final UdmabufExporter udmabuf = new UdmabufExporter("/dev/udmabuf");
    private final ContractRegistry registry = ContractRegistry.of(udmabuf, udmabuf.properties(200));

    @Override
    protected ExporterContract contract() {
        return ExporterContract.of(registry.registry(), "udmabuf");
    }

    @Override
    protected void closeContract() {
        registry.close();
        udmabuf.close();
    }
}

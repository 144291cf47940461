package org.dmabuf.exporter.heap;

import org.dmabuf.testkit.ContractRegistry;
import org.dmabuf.testkit.ExporterContract;
import org.dmabuf.testkit.junit5.ExporterContractTest;

/** The sealed-memfd exporter passes the exporter contract (on any host). */
class MemfdContractTest extends ExporterContractTest {
    private final ContractRegistry registry = ContractRegistry.of(new MemfdExporter(), MemfdExporter.properties(100));

    @Override
    protected ExporterContract contract() {
        return ExporterContract.of(registry.registry(), MemfdExporter.NAME_VALUE);
    }

    @Override
    protected void closeContract() {
        registry.close();
    }
}

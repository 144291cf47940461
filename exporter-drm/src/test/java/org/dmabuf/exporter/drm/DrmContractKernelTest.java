package org.dmabuf.exporter.drm;

import org.dmabuf.testkit.ContractRegistry;
import org.dmabuf.testkit.ExporterContract;
import org.dmabuf.testkit.junit5.ExporterContractTest;
import org.junit.jupiter.api.Tag;

/** vgem dumb buffers exported with PRIME pass the exporter contract, in the kernel guest. */
@Tag("kernel")
class DrmContractKernelTest extends ExporterContractTest {
    private final DrmDevice device = new DrmDevice("/dev/dri/card0");
    private final DrmExporter exporter = new DrmExporter(device);
    private final ContractRegistry registry = ContractRegistry.of(exporter, exporter.properties(150));

    @Override
    protected ExporterContract contract() {
        return ExporterContract.of(registry.registry(), "drm:vgem:card0");
    }

    @Override
    protected void closeContract() {
        registry.close();
        device.close();
    }
}

package org.dmabuf.exporter.v4l2;

import org.dmabuf.api.BufferFormat;
import org.dmabuf.testkit.ContractRegistry;
import org.dmabuf.testkit.ExporterContract;
import org.dmabuf.testkit.junit5.ExporterContractTest;
import org.junit.jupiter.api.Tag;

/**
 * vivid's MMAP buffers exported with EXPBUF pass the exporter contract, in the kernel guest: four NV12 640x480
 * buffers, so sizes up to one frame (the kit skips larger ones by the exporter's max size) and NV12 frames of that
 * size; a driver buffer handed out again reads zeros, as new memory does.
 */
@Tag("kernel")
class V4l2ContractKernelTest extends ExporterContractTest {
    private final V4l2Device device = new V4l2Device("/dev/video0");
    private final V4l2Exporter exporter = new V4l2Exporter(device, 640, 480, BufferFormat.fourcc("NV12"), 4);
    private final ContractRegistry registry = ContractRegistry.of(exporter, exporter.properties(50));

    @Override
    protected ExporterContract contract() {
        return ExporterContract.of(registry.registry(), "v4l2:vivid:video0");
    }

    @Override
    protected void closeContract() {
        registry.close();
        exporter.close();
        device.close();
    }
}

package org.dmabuf.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import java.util.function.IntSupplier;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaDirection;
import org.dmabuf.api.ExporterInfo;
import org.dmabuf.api.Frame;
import org.dmabuf.api.SgTable;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.core.DmaBufs;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.linux.TestSupport;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The plain-Java entry point on a real kernel (the guest: the system heap, udmabuf, vgem, vivid) with the heap
 * exporters' defaults, a DRM factory configuration and a V4L2 one: every exporter allocates, each buffer's exporter
 * name is the kernel's {@code exp_name} in fdinfo, the DRM importer device imports a heap buffer, the camera
 * captures, and {@link DmaBufs#close()} with a buffer, a mapping and a frame still held leaves no fd and no mapping.
 */
@Tag("kernel")
class DmaBufsKernelTest {
    @Test
    void heapsDrmAndV4l2FromConfigurationAndCloseLeavesNothing() {
        long fds = TestSupport.bufferFds();
        long maps = TestSupport.mappings("/dmabuf:", "/memfd:");
        DmaBufs d = DmaBufs.builder()
                .configure("org.dmabuf.exporter.drm~gpu", Map.of("dev.path", "/dev/dri/card0"))
                .configure("org.dmabuf.exporter.v4l2~camera", Map.of("dev.path", "/dev/video0", "width", 320,
                        "height", 240))
                .open();
        try {
            assertThat(d.fallbacks()).isEmpty();
            assertThat(d.exporters()).extracting(ExporterInfo::name).containsExactlyInAnyOrder("system", "udmabuf",
                    "memfd", "drm:vgem:card0", "v4l2:vivid:video0");
            Map<String, String> expNames = Map.of("system", "system", "udmabuf", "udmabuf", "memfd", "memfd",
                    "drm:vgem:card0", "drm", "v4l2:vivid:video0", "videobuf2_vmalloc");
            for (ExporterInfo e : d.exporters()) {
                try (DmaBuf b = d.allocate(BufferRequest.ofSize(4096).exporter(e.name()).name("plain"))) {
                    assertThat(b.exporterService()).contains(e.name());
                    assertThat(b.exporterName()).as(e.name()).contains(expNames.get(e.name()));
                    if (!e.name().equals("memfd")) {
                        assertThat(FdInfo.read(b.fd()).expName()).as(e.name()).isEqualTo(expNames.get(e.name()));
                    }
                }
            }
            // held across close(): a heap buffer imported by the DRM device and mapped by the CPU, and a frame
            DmaBuf held = d.allocate(BufferRequest.ofSize(1 << 16).exporter("system"));
            Attachment gpu = held.attach(d.importer("gpu").orElseThrow());
            SgTable sg = gpu.map(DmaDirection.BIDIRECTIONAL);
            assertThat(gpu.imported(IntSupplier.class).getAsInt()).isPositive();
            CpuAccess cpu = held.beginCpuAccess(SyncDirection.WRITE);
            cpu.putByte(0, (byte) 1);
            Frame frame = d.frameSource("camera").orElseThrow().next(Duration.ofSeconds(30));
            assertThat(frame).isNotNull();
            assertThat(FdInfo.read(frame.buffer(0).fd()).expName()).isEqualTo("videobuf2_vmalloc");
            assertThat(TestSupport.bufferFds()).isGreaterThan(fds);
            assertThat(sg).isNotNull();
        } finally {
            d.close();
        }
        assertThat(TestSupport.bufferFds()).as("%s", TestSupport.openFdTargets()).isEqualTo(fds);
        assertThat(TestSupport.mappings("/dmabuf:", "/memfd:")).isEqualTo(maps);
        assertThat(d.bufinfo()).isEmpty();
    }
}

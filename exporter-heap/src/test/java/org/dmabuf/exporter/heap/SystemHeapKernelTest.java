package org.dmabuf.exporter.heap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.DmaBufUapi;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.spi.DmaBufExporter;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The system dma-heap, in the kernel guest. */
@Tag("kernel")
class SystemHeapKernelTest extends CommonExporterTests {
    private final DmaHeapExporter heap = new DmaHeapExporter("/dev/dma_heap/system");

    @Override
    DmaBufExporter exporter() {
        return heap;
    }

    @Override
    Map<String, Object> properties() {
        return heap.properties(300);
    }

    @Override
    BufferKind kind() {
        return BufferKind.DMA_BUF;
    }

    @Override
    String exporterName() {
        return "system";
    }

    @Test
    void theSystemHeapIsNotContiguous() {
        assertThat(heap.contiguous()).isFalse();
        assertThat(properties()).containsEntry(DmaBufExporter.CONTIGUOUS, false)
                .containsEntry(DmaBufExporter.EXP_NAME, "system");
    }

    @Test
    void fdinfoNamesTheExporterAndTheBuffer() {
        try (DmaBuf buf = registry.allocate(BufferRequest.ofSize(1 << 20).name("frame-0"))) {
            FdInfo info = fdinfo(buf.fd());
            assertThat(info.expName()).isEqualTo("system");
            assertThat(info.size()).isEqualTo(1 << 20);
            assertThat(info.name()).isEqualTo("frame-0");
            buf.setName("renamed");
            assertThat(fdinfo(buf.fd()).name()).isEqualTo("renamed");
            assertThat(info.flags() & 0x80000).as("O_CLOEXEC").isNotZero();
        }
    }

    @Test
    void syncIsAcceptedForEveryDirectionAndBadFlagsAreEinval() {
        try (DmaBuf buf = registry.allocate(BufferRequest.ofSize(4096))) {
            for (SyncDirection d : SyncDirection.values()) {
                try (CpuAccess a = buf.beginCpuAccess(d)) {
                    assertThat(a.direction()).isEqualTo(d);
                }
            }
            assertThatThrownBy(() -> DmaBufUapi.syncFlags(buf.fd(), 0xff)).isInstanceOf(LinuxException.class)
                    .hasMessageContaining("ioctl(DMA_BUF_IOCTL_SYNC): EINVAL");
            assertThatThrownBy(() -> DmaBufUapi.syncFlags(buf.fd(), 0)).as("START without a direction")
                    .isInstanceOf(LinuxException.class).hasMessageContaining("EINVAL");
        }
    }

    @Test
    void badHeapFlagsAreRefusedAsTheKernelSelftestExpects() {
        assertThatThrownBy(() -> heap.allocateFd(4096, rw(), ~0L)).isInstanceOf(LinuxException.class)
                .hasMessageContaining("ioctl(DMA_HEAP_IOCTL_ALLOC): EINVAL")
                .hasMessageContaining("/dev/dma_heap/system");
    }

    @Test
    void badFdFlagsAreRefusedAsTheKernelSelftestExpects() {
        assertThatThrownBy(() -> heap.allocateFd(4096, ~0, 0)).isInstanceOf(LinuxException.class)
                .hasMessageContaining("EINVAL");
    }

    @Test
    void zeroLengthIsEinval() {
        assertThatThrownBy(() -> heap.allocateFd(0, rw(), 0)).isInstanceOf(LinuxException.class)
                .hasMessageContaining("EINVAL");
    }

    @Test
    void aPlainAllocationWithValidFlagsWorks() {
        try (Fd fd = heap.allocateFd(8192, rw(), 0)) {
            assertThat(fdinfo(fd.get()).size()).isEqualTo(8192);
        }
    }

    @Test
    void aMissingHeapNamesThePath() {
        assertThatThrownBy(() -> new DmaHeapExporter("/dev/dma_heap/linux,cma"))
                .isInstanceOf(LinuxException.class)
                .hasMessage("open: ENOENT: /dev/dma_heap/linux,cma: No such file or directory");
    }
}

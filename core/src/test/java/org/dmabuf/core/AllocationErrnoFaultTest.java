package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.NoExporterException;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.LinuxException;
import org.junit.jupiter.api.Test;

/**
 * The errno of an allocation every exporter refused: the kernel's, when they all failed alike, so that a caller can
 * tell "no fd left" ({@code EMFILE}: close some, try again) from "no memory" ({@code ENOMEM}); {@code ENOMEM} when
 * their errnos differ. (The registry used to answer {@code ENOMEM} for any failure; the fd-limit fault in a child
 * JVM, exporter-heap's {@code NofileFaultTest}, showed an {@code EMFILE} reported as {@code ENOMEM}.)
 */
class AllocationErrnoFaultTest extends RegistryFixture {
    @Test
    void everyExporterOutOfFdsIsEmfileNamingEachCall() {
        system.failAllocation = new LinuxException("memfd_create", "memfd:dmabuf:x", Errno.EMFILE);
        cma.failAllocation = new LinuxException("ioctl(DMA_HEAP_IOCTL_ALLOC)", "/dev/dma_heap/cma", Errno.EMFILE);
        assertThatThrownBy(() -> scope.allocate(BufferRequest.ofSize(4096)))
                .isInstanceOf(NoExporterException.class)
                .satisfies(e -> assertThat(((DmaBufException) e).errno()).isEqualTo("EMFILE"))
                .hasMessageStartingWith("allocate: EMFILE: ")
                .hasMessageContaining("system: memfd_create: EMFILE")
                .hasMessageContaining("cma: ioctl(DMA_HEAP_IOCTL_ALLOC): EMFILE")
                .satisfies(e -> assertThat(e.getSuppressed()).hasSize(2));
        assertThat(registry.liveCount()).isZero();
        system.failAllocation = null;
        try (DmaBuf b = scope.allocate(BufferRequest.ofSize(4096))) {
            assertThat(b.exporterService()).contains("system");
        }
    }

    @Test
    void exportersFailingWithDifferentErrnosIsEnomem() {
        system.failAllocation = new LinuxException("memfd_create", "memfd:dmabuf:x", Errno.EMFILE);
        cma.failAllocation = new LinuxException("ioctl(DMA_HEAP_IOCTL_ALLOC)", "/dev/dma_heap/cma", Errno.ENOMEM);
        assertThatThrownBy(() -> scope.allocate(BufferRequest.ofSize(4096)))
                .isInstanceOf(NoExporterException.class)
                .satisfies(e -> assertThat(((DmaBufException) e).errno()).isEqualTo("ENOMEM"))
                .hasMessageContaining("system: memfd_create: EMFILE")
                .hasMessageContaining("cma: ioctl(DMA_HEAP_IOCTL_ALLOC): ENOMEM");
        assertThat(registry.liveCount()).isZero();
    }
}

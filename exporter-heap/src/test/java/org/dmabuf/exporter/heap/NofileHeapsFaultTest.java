package org.dmabuf.exporter.heap;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code RLIMIT_NOFILE} lowered to 64 while allocating from the guest's udmabuf and system heap, in a child JVM
 * ({@link NofileFault}). udmabuf takes two fds per allocation (the memfd, then the dma-buf): with one slot left its
 * memfd is made and {@code UDMABUF_CREATE} is refused, and that memfd must not stay open.
 */
@Tag("kernel")
class NofileHeapsFaultTest {
    @Test
    void udmabufAndTheSystemHeapAtTheFdLimitAreACleanEmfileWithNothingLeftOpen() throws Exception {
        String out = NofileFaultTest.run("udmabuf", "system");
        assertThat(out)
                .containsPattern("nofile: udmabuf: \\d+ buffers, then NoExporterException: allocate: EMFILE: .*"
                        + "ioctl\\(UDMABUF_CREATE\\): EMFILE.*; fds unchanged \\(63\\)")
                .containsPattern("nofile: udmabuf: no fd left: allocate: EMFILE: .*memfd_create: EMFILE")
                .contains("nofile: udmabuf: released 8, allocated 8 again");
        assertThat(out)
                .containsPattern("nofile: system: \\d+ buffers, then NoExporterException: allocate: EMFILE: .*"
                        + "ioctl\\(DMA_HEAP_IOCTL_ALLOC\\): EMFILE.*; fds unchanged \\(64\\)")
                .containsPattern("nofile: system: no fd left: allocate: EMFILE: "
                        + ".*ioctl\\(DMA_HEAP_IOCTL_ALLOC\\): EMFILE")
                .contains("nofile: system: released 8, allocated 8 again");
    }
}

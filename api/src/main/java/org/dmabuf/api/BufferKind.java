package org.dmabuf.api;

/**
 * What kind of kernel object backs a buffer. Reported honestly: a sealed memfd is shareable and mappable like a
 * dma-buf, but no device can DMA into it and it has no {@code DMA_BUF_IOCTL_SYNC}.
 */
public enum BufferKind {
    /** A real dma-buf (fdinfo has {@code exp_name:}); devices can import it. */
    DMA_BUF,
    /** A sealed memfd: shared memory for processes only, the embedded default where the kernel has no exporter. */
    MEMFD
}

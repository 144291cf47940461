package org.dmabuf.api;

/**
 * The direction of a device's DMA through a mapping: the kernel's {@code enum dma_data_direction}, as passed to
 * {@code dma_buf_map_attachment()}.
 */
public enum DmaDirection {
    /** {@code DMA_BIDIRECTIONAL}: the device both reads and writes the buffer. */
    BIDIRECTIONAL,
    /** {@code DMA_TO_DEVICE}: the device reads the buffer. */
    TO_DEVICE,
    /** {@code DMA_FROM_DEVICE}: the device writes the buffer. */
    FROM_DEVICE
}

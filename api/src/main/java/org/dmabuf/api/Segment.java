package org.dmabuf.api;

/**
 * One entry of a mapped scatterlist: the address the device uses ({@code sg_dma_address}) and the length
 * ({@code sg_dma_len}). Immutable and thread-safe.
 *
 * @param address the device address; for software devices the offset within the buffer
 * @param length bytes, greater than zero
 */
public record Segment(long address, long length) {
    /**
     * Checks the length.
     *
     * @throws InvalidArgumentException if {@code length} is not positive
     */
    public Segment {
        if (length <= 0) {
            throw new InvalidArgumentException("Segment", "segment length " + length + " is not positive");
        }
    }
}

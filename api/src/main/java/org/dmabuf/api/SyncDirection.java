package org.dmabuf.api;

/**
 * The direction of a CPU access bracketed by {@link DmaBuf#beginCpuAccess(SyncDirection)}: the
 * {@code DMA_BUF_SYNC_READ}, {@code DMA_BUF_SYNC_WRITE} and {@code DMA_BUF_SYNC_RW} flags of
 * {@code struct dma_buf_sync}.
 */
public enum SyncDirection {
    /** {@code DMA_BUF_SYNC_READ}: the CPU reads what a device wrote. */
    READ(1),
    /** {@code DMA_BUF_SYNC_WRITE}: the CPU writes what a device will read. */
    WRITE(2),
    /** {@code DMA_BUF_SYNC_RW}: both. */
    READ_WRITE(3);

    private final int flags;

    SyncDirection(int flags) {
        this.flags = flags;
    }

    /**
     * The UAPI flag bits of this direction ({@code DMA_BUF_SYNC_READ = 1}, {@code DMA_BUF_SYNC_WRITE = 2}).
     *
     * @return the bits to OR with {@code DMA_BUF_SYNC_START} or {@code DMA_BUF_SYNC_END}
     */
    public int flags() {
        return flags;
    }

    /**
     * Whether this direction lets the CPU write.
     *
     * @return true for {@link #WRITE} and {@link #READ_WRITE}
     */
    public boolean allowsWrite() {
        return (flags & 2) != 0;
    }

    /**
     * Whether this direction lets the CPU read.
     *
     * @return true for {@link #READ} and {@link #READ_WRITE}
     */
    public boolean allowsRead() {
        return (flags & 1) != 0;
    }
}

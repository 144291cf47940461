package org.dmabuf.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One bracketed CPU access to a buffer: {@link DmaBuf#beginCpuAccess(SyncDirection)} issued
 * {@code DMA_BUF_IOCTL_SYNC} with {@code DMA_BUF_SYNC_START}; {@link #close()} issues it with
 * {@code DMA_BUF_SYNC_END}. While open it holds a reference to the buffer, so the mapping cannot go away under it.
 * Its accessors check the direction: writing through a {@link SyncDirection#READ} access is refused.
 *
 * <p>Meant for one thread, in a try-with-resources block; {@link #close()} ends it once, later calls are no-ops,
 * and accessors after the end throw {@link BufferReleasedException}.
 */
@ProviderType
public interface CpuAccess extends MemoryView, AutoCloseable {
    /**
     * The direction given to {@code beginCpuAccess}.
     *
     * @return the direction
     */
    SyncDirection direction();

    /**
     * Ends the access ({@code DMA_BUF_SYNC_END}) and drops its reference.
     *
     * @throws DmaBufException if the exporter's end-of-access sync fails; the access is ended all the same
     */
    @Override
    void close();
}

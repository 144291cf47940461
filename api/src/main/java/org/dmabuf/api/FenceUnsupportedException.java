package org.dmabuf.api;

/**
 * The buffer has no fences to give or take: the kernel is older than 6.0 (no
 * {@code DMA_BUF_IOCTL_EXPORT_SYNC_FILE}), or the buffer is no dma-buf (a memfd). Both answer {@code ENOTTY}. The
 * caller falls back to CPU synchronisation ({@link DmaBuf#beginCpuAccess(SyncDirection)}).
 *
 * @since 1.3
 */
public class FenceUnsupportedException extends DmaBufException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param call the call that failed, for example {@code "ioctl(DMA_BUF_IOCTL_EXPORT_SYNC_FILE)"}
     * @param errno the errno name the kernel gave, {@code "ENOTTY"}
     * @param message which buffer
     * @param cause the underlying failure, or null
     */
    public FenceUnsupportedException(String call, String errno, String message, Throwable cause) {
        super(call, errno, message, cause);
    }
}

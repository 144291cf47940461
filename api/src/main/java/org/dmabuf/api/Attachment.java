package org.dmabuf.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A device attached to a buffer: the {@code struct dma_buf_attachment} that {@code dma_buf_attach()} returns.
 * Closing it is {@code dma_buf_detach()}; unmap every mapping first.
 *
 * <p>Thread-safe: any thread may call it; {@link #close()} detaches once, later calls are no-ops.
 */
@ProviderType
public interface Attachment extends AutoCloseable {
    /**
     * The attached device.
     *
     * @return the device
     */
    Device device();

    /**
     * The buffer it is attached to. The returned handle is the one {@code attach} was called on; it is not a new
     * reference.
     *
     * @return the buffer
     */
    DmaBuf buffer();

    /**
     * Whether it is still attached.
     *
     * @return false once detached, or once its buffer was released
     */
    boolean isAttached();

    /**
     * What an {@link ImporterDevice} made when it imported the buffer: a GEM handle, a V4L2 buffer.
     *
     * @param <T> the type the device documents
     * @param type that type
     * @return the import, or null if the device is not an importer or the buffer has no storage yet
     * @throws ClassCastException if the import is not of that type
     */
    <T> T imported(Class<T> type);

    /**
     * Maps it for the device; the same as {@code buffer().map(this, direction)}.
     *
     * @param direction the direction of the device's DMA
     * @return the mapping
     * @throws BufferStateException if it is detached
     * @throws DmaBufException as {@link DmaBuf#map(Attachment, DmaDirection)}
     */
    default SgTable map(DmaDirection direction) {
        return buffer().map(this, direction);
    }

    /**
     * Detaches ({@link DmaBuf#detach(Attachment)}); a no-op if already detached.
     *
     * @throws BufferStateException ({@code EBUSY}) if it is still mapped
     */
    @Override
    void close();
}

package org.dmabuf.api;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A mapping of an attachment: the {@code struct sg_table} that {@code dma_buf_map_attachment()} returns. Closing it
 * is {@code dma_buf_unmap_attachment()}, which must happen before the attachment is detached.
 *
 * <p>Thread-safe: any thread may read it; {@link #close()} runs once, later calls are no-ops.
 */
@ProviderType
public interface SgTable extends AutoCloseable {
    /**
     * The attachment this mapping belongs to.
     *
     * @return the attachment
     */
    Attachment attachment();

    /**
     * The direction it was mapped for.
     *
     * @return the direction
     */
    DmaDirection direction();

    /**
     * The segments the device sees, in buffer order; their lengths add up to the buffer's size.
     *
     * @return an immutable list
     */
    List<Segment> segments();

    /**
     * Whether it is still mapped.
     *
     * @return false once unmapped, or once its buffer was released
     */
    boolean isMapped();

    /** Unmaps ({@link DmaBuf#unmap(SgTable)}); a no-op if already unmapped. */
    @Override
    void close();
}

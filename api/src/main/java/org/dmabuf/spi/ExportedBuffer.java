package org.dmabuf.spi;

import java.util.List;
import java.util.Optional;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.DmaDirection;
import org.dmabuf.api.Segment;
import org.dmabuf.api.SyncDirection;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * The storage of one buffer and its ops: the exporter's {@code struct dma_buf_ops} bound to its
 * {@code struct dma_buf}. The core owns it from {@link DmaBufExporter#allocate} until it calls {@link #release()}.
 *
 * <p>The core enforces the rules before any op is called: {@code mapDmaBuf} only for an attachment that
 * {@code attach} accepted, {@code unmapDmaBuf} only for a live mapping, {@code detach} only when unmapped, and no op
 * at all after {@code release}. Threads: the core serialises attach, detach, map, unmap, mmap, setName and release
 * for one buffer; {@code beginCpuAccess}/{@code endCpuAccess} may come from several threads at once.
 */
@ConsumerType
public interface ExportedBuffer {
    /**
     * The fd that represents the buffer ({@code O_CLOEXEC}); owned by this object and closed by {@link #release()}.
     *
     * @return the fd
     */
    int fd();

    /**
     * The inode of the fd's file: the buffer's identity.
     *
     * @return the inode
     */
    long inode();

    /**
     * The size, at least the size asked for.
     *
     * @return bytes
     */
    long size();

    /**
     * The image layout this storage actually has, where the exporter decided it: the pitch and size a DRM
     * {@code CREATE_DUMB} returned, the {@code bytesperline} and {@code sizeimage} a V4L2 driver set. The core
     * reports it as the buffer's {@link org.dmabuf.api.DmaBuf#format() format} and checks that its planes fit in
     * {@link #size()}. Empty by default: the core then reports the layout it computed for the request
     * ({@link AllocationRequest#format()}).
     *
     * @return the layout of a whole image in this buffer, or empty
     * @since 1.1
     */
    default Optional<BufferFormat> format() {
        return Optional.empty();
    }

    /**
     * What kind of kernel object the fd is.
     *
     * @return {@link BufferKind#DMA_BUF} by default
     */
    default BufferKind kind() {
        return BufferKind.DMA_BUF;
    }

    /**
     * The {@code attach} op: a device attaches. Refuse with {@link org.dmabuf.api.ConstraintException} a device this
     * storage cannot serve; import the buffer into the device where it is a real one.
     *
     * @param attachment the new attachment
     */
    default void attach(Attachment attachment) {
    }

    /**
     * The {@code detach} op.
     *
     * @param attachment an attachment that {@link #attach} accepted and that has no live mapping
     */
    default void detach(Attachment attachment) {
    }

    /**
     * The {@code map_dma_buf} op: the scatterlist the device sees. Segment lengths add up to {@link #size()}.
     *
     * @param attachment an attached attachment
     * @param direction the DMA direction
     * @return the segments, in buffer order
     */
    List<Segment> mapDmaBuf(Attachment attachment, DmaDirection direction);

    /**
     * The {@code unmap_dma_buf} op.
     *
     * @param attachment the attachment
     * @param segments what {@link #mapDmaBuf} returned
     * @param direction the DMA direction
     */
    default void unmapDmaBuf(Attachment attachment, List<Segment> segments, DmaDirection direction) {
    }

    /**
     * The {@code mmap} op: maps the whole buffer for the CPU, read-write and shared. The core calls it at most
     * once and closes the result before {@link #release()}.
     *
     * @return the mapping
     */
    MappedMemory mmap();

    /**
     * The {@code begin_cpu_access} op ({@code DMA_BUF_IOCTL_SYNC} with {@code DMA_BUF_SYNC_START}); nothing by
     * default.
     *
     * @param direction the CPU's access
     */
    default void beginCpuAccess(SyncDirection direction) {
    }

    /**
     * The {@code end_cpu_access} op ({@code DMA_BUF_SYNC_END}); nothing by default.
     *
     * @param direction the CPU's access, as given to {@link #beginCpuAccess}
     */
    default void endCpuAccess(SyncDirection direction) {
    }

    /**
     * Names the buffer in the kernel ({@code DMA_BUF_SET_NAME}); nothing by default. The core checked the name.
     *
     * @param name at most 31 bytes of UTF-8
     */
    default void setName(String name) {
    }

    /** The {@code release} op: frees the storage and closes the fd. Called exactly once. */
    void release();
}

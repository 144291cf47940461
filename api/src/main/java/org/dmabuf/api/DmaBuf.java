package org.dmabuf.api;

import java.time.Duration;
import java.util.Optional;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A handle on a dma-buf: one reference to a fixed-size buffer object ({@code struct dma_buf}). The buffer lives
 * until its last reference is dropped; then the exporter's {@code release} op frees the storage. Every handle is
 * {@link AutoCloseable}: {@link #close()} is {@link #put()}.
 *
 * <p>The calls follow {@code dma-buf.c}: {@link #attach}, {@link #map}, {@link #unmap}, {@link #detach},
 * {@link #mmap}, {@link #beginCpuAccess}, {@link #fd}, {@link #get}/{@link #put}. A buffer may have no storage yet
 * (late allocation): {@link #attach} records each device's constraints and the first {@link #map}, {@link #mmap},
 * {@link #beginCpuAccess} or {@link #fd} commits storage from the best-ranked exporter that satisfies them all.
 *
 * <p>Thread-safe: any thread may call any method. Calls on a handle after {@link #put()} throw
 * {@link BufferReleasedException}; other handles on the same buffer are not affected.
 */
@ProviderType
public interface DmaBuf extends AutoCloseable {
    /**
     * The buffer's size: once storage is committed, the storage's real size as the kernel reports it (the
     * {@code size} column of the kernel's {@code bufinfo}, {@code lseek(fd, 0, SEEK_END)}), which may be larger than
     * the request (heaps round up to pages); before that, the requested size. Every view of the buffer is bounded by
     * it.
     *
     * @return bytes
     */
    long size();

    /**
     * The size asked for at creation ({@link BufferRequest#size()}), or, for a buffer adopted from an fd, the size
     * the kernel reported at adoption.
     *
     * @return bytes
     */
    long requestedSize();

    /**
     * The buffer's name ({@code DMA_BUF_SET_NAME}; the {@code name:} line of fdinfo).
     *
     * @return the name, empty when it has none
     */
    String name();

    /**
     * Names the buffer ({@code DMA_BUF_SET_NAME}), for {@code bufinfo} and the kernel's fdinfo.
     *
     * @param name at most {@link BufferRequest#MAX_NAME_LENGTH} bytes of UTF-8
     * @throws InvalidArgumentException if the name is too long
     * @throws BufferReleasedException if this handle was put
     */
    void setName(String name);

    /**
     * The kernel's name for the exporter of the storage: a dma-buf's {@code exp_name} as {@code /proc/self/fdinfo}
     * and the kernel's {@code bufinfo} print it ({@code system}, {@code udmabuf}, {@code drm},
     * {@code videobuf2_vmalloc}), or {@code memfd} for a sealed memfd, which has none.
     *
     * @return the name, or empty while the buffer has no storage
     */
    Optional<String> exporterName();

    /**
     * The exporter service that made or adopted the storage: its {@code dmabuf.exporter.name} service property
     * ({@code system}, {@code drm:vgem:card0}, {@code v4l2:vivid:video0}), or {@code foreign:EXP_NAME} for a
     * received buffer that no registered exporter adopted.
     *
     * @return the service's name, or empty while the buffer has no storage
     */
    Optional<String> exporterService();

    /**
     * What kind of kernel object backs the buffer.
     *
     * @return the kind, or empty while the buffer has no storage
     */
    Optional<BufferKind> kind();

    /**
     * The buffer's identity: the device and inode of its file, ({@code st_dev}, {@code st_ino}). Two buffers are the
     * same kernel object exactly when their ids are equal.
     *
     * @return the id, or {@link BufferId#NONE} while the buffer has no storage
     */
    BufferId id();

    /**
     * The inode number of the buffer's file, as the kernel's {@code bufinfo} prints it in its {@code ino} column. It
     * is unique only among files of one filesystem: compare {@link #id()}s, not inodes.
     *
     * @return the inode, or 0 while the buffer has no storage
     */
    long inode();

    /**
     * The image's layout, where the buffer holds a whole image (every plane of its format): once storage is
     * committed, the layout the exporter actually made (a DRM dumb buffer's pitch, a V4L2 driver's
     * {@code bytesperline}), or the layout the core computed from the requested format and the stride and offset
     * alignment of every attached device; before that, the requested format. A buffer that holds one plane of a
     * multi-buffer frame has none: its {@link FrameBuffer} has the layout.
     *
     * @return the format, if any
     */
    Optional<BufferFormat> format();

    /**
     * Whether storage has been committed.
     *
     * @return true after the first {@code map}, {@code mmap}, {@code beginCpuAccess} or {@code fd}, or for a
     *         buffer that was allocated or imported
     */
    boolean isAllocated();

    /**
     * The number of references to the buffer, over all handles, open CPU accesses and the core's own.
     *
     * @return the count; 0 once released
     */
    int refCount();

    /**
     * Takes another reference ({@code get_dma_buf}). The new handle has to be put on its own. It has the same owner
     * as this handle: a bundle that was handed this handle by another takes its own reference with
     * {@link DmaBufRegistry#get(DmaBuf)} instead, so that it is released when the taking bundle stops.
     *
     * @return a new handle on the same buffer
     * @throws BufferReleasedException if this handle was put
     */
    DmaBuf get();

    /**
     * Drops this handle's reference ({@code dma_buf_put}); the last one releases the buffer. A buffer released
     * with devices still attached is detached with a warning, as the kernel warns.
     *
     * @throws BufferReleasedException if this handle was already put (a double put)
     */
    void put();

    /**
     * Puts this handle unless it already was: {@link #put()} for try-with-resources, a no-op the second time.
     */
    @Override
    void close();

    /**
     * Whether this handle has been put.
     *
     * @return true after {@link #put()} or {@link #close()}
     */
    boolean isPut();

    /**
     * Attaches a device ({@code dma_buf_attach}). Before storage exists, its constraints are recorded for late
     * allocation; afterwards the storage has to satisfy them.
     *
     * @param device the importer device
     * @return the attachment, owned by the caller: close it (detach) when done
     * @throws ConstraintException ({@code EBUSY}) if the committed storage cannot serve the device
     * @throws BufferReleasedException if this handle was put
     */
    Attachment attach(Device device);

    /**
     * Detaches a device ({@code dma_buf_detach}); a no-op if it was already detached.
     *
     * @param attachment an attachment of this buffer
     * @throws BufferStateException {@code EBUSY} if it is still mapped; {@code EINVAL} if it belongs to another
     *         buffer
     */
    void detach(Attachment attachment);

    /**
     * Maps an attachment for its device ({@code dma_buf_map_attachment}), committing storage first if needed.
     *
     * @param attachment an attachment of this buffer that is still attached
     * @param direction the direction of the device's DMA
     * @return the mapping, owned by the caller: close it (unmap) before detaching
     * @throws BufferStateException ({@code EINVAL}) if the attachment is detached or belongs to another buffer
     * @throws NoExporterException if storage is needed and no exporter can provide it
     * @throws BufferReleasedException if this handle was put
     */
    SgTable map(Attachment attachment, DmaDirection direction);

    /**
     * Unmaps a mapping ({@code dma_buf_unmap_attachment}).
     *
     * @param table a mapping of this buffer
     * @throws BufferStateException ({@code EINVAL}) if it was already unmapped or belongs to another buffer
     */
    void unmap(SgTable table);

    /**
     * Maps the buffer for the CPU ({@code mmap} of its fd, or the exporter's own mmap), committing storage first
     * if needed. The mapping is made once and cached; it goes when the buffer is released. Bracket accesses with
     * {@link #beginCpuAccess(SyncDirection)} for coherency with devices.
     *
     * @return a view of the whole buffer
     * @throws NoExporterException if storage is needed and no exporter can provide it
     * @throws BufferReleasedException if this handle was put
     */
    MemoryView mmap();

    /**
     * Begins a CPU access ({@code DMA_BUF_IOCTL_SYNC} with {@code DMA_BUF_SYNC_START}), mapping the buffer if it
     * is not yet mapped. Close the result to end it.
     *
     * <pre>{@code
     * try (CpuAccess a = buf.beginCpuAccess(SyncDirection.READ)) {
     *     a.read(0, thumbnail, 0, thumbnail.length);
     * }
     * }</pre>
     *
     * @param direction what the CPU will do
     * @return the open access, owned by the caller
     * @throws DmaBufException if the exporter's sync fails
     * @throws BufferReleasedException if this handle was put
     */
    CpuAccess beginCpuAccess(SyncDirection direction);

    /**
     * The file descriptor for sharing ({@code dma_buf_fd}), committing storage first if needed. It is
     * {@code O_CLOEXEC} and stays owned by the buffer: do not close it; it is valid while this handle holds its
     * reference. Send it to another process, or {@code dup} it to keep it longer.
     *
     * @return the fd
     * @throws NoExporterException if storage is needed and no exporter can provide it
     * @throws BufferReleasedException if this handle was put
     */
    int fd();

    /**
     * The buffer's fences as one fence ({@code DMA_BUF_IOCTL_EXPORT_SYNC_FILE}, kernel 6.0+): a snapshot of the
     * work pending on the buffer at this call. For {@link SyncDirection#READ} it signals when every writer is done
     * (waiting on it is {@code poll} with {@code POLLIN}); for {@link SyncDirection#WRITE} or
     * {@link SyncDirection#READ_WRITE}, when every reader and writer is done ({@code POLLOUT}). A buffer with no
     * pending work gives a fence that has signalled. Commits storage first if needed.
     *
     * @param direction the access the caller is about to make
     * @return the fence, owned by the caller
     * @throws FenceUnsupportedException ({@code ENOTTY}) on a kernel without the call or a buffer that is no
     *         dma-buf (a memfd): use CPU sync instead; said once in the log
     * @throws BufferReleasedException if this handle was put
     * @since 1.3
     */
    Fence exportFence(SyncDirection direction);

    /**
     * Adds a fence to the buffer's implicit fences ({@code DMA_BUF_IOCTL_IMPORT_SYNC_FILE}, kernel 6.0+): as a
     * write fence for {@link SyncDirection#WRITE} or {@link SyncDirection#READ_WRITE}, which every later access
     * waits for; as a read fence for {@link SyncDirection#READ}, which only later writers wait for. The fence stays
     * the caller's.
     *
     * @param fence an open fence
     * @param direction the access the fence stands for
     * @throws FenceUnsupportedException ({@code ENOTTY}) on a kernel without the call or a buffer that is no
     *         dma-buf: use CPU sync instead
     * @throws DmaBufException naming the call, the fds and errno otherwise ({@code EBADF} for a closed fence)
     * @throws BufferReleasedException if this handle was put
     * @since 1.3
     */
    void importFence(Fence fence, SyncDirection direction);

    /**
     * Waits for the buffer's implicit fences ({@code poll} on its fd, as {@code dma-buf.c} implements it): for
     * {@link SyncDirection#READ} until every writer is done ({@code POLLIN}), for {@link SyncDirection#WRITE} or
     * {@link SyncDirection#READ_WRITE} until every reader and writer is done ({@code POLLOUT}). A memfd has no
     * fences and is idle at once. Commits storage first if needed.
     *
     * @param direction the access the caller is about to make
     * @param timeout the longest wait; zero only checks
     * @throws FenceTimeoutException ({@code ETIME}) naming the buffer if work is still pending after the timeout
     * @throws BufferReleasedException if this handle was put
     * @since 1.3
     */
    void awaitIdle(SyncDirection direction, Duration timeout);
}

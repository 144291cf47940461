package org.dmabuf.api;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The entry point: creates buffers, turns received fds back into buffers, and lists what is live. Registered as
 * an OSGi service with one instance per client bundle: buffers, attachments and mappings a bundle still holds
 * when it stops are released for it.
 *
 * <p>Thread-safe: any thread may call any method.
 */
@ProviderType
public interface DmaBufRegistry {
    /**
     * Creates a buffer without storage (late allocation). Attach the devices that will use it; the first
     * {@code map}, {@code mmap}, {@code beginCpuAccess} or {@code fd} commits storage from the best-ranked exporter
     * that satisfies the request and every attachment.
     *
     * @param request size, name, format, exporter, constraints
     * @return a handle, owned by the caller
     * @throws InvalidArgumentException if the request cannot be served by any buffer
     */
    DmaBuf create(BufferRequest request);

    /**
     * Creates a buffer and commits its storage at once, as {@code DMA_HEAP_IOCTL_ALLOC} does.
     *
     * @param request size, name, format, exporter, constraints
     * @return a handle, owned by the caller
     * @throws NoExporterException if no exporter can provide the storage
     * @throws DmaBufException if the exporter fails to allocate
     */
    DmaBuf allocate(BufferRequest request);

    /**
     * Allocates a frame: one buffer, or one per plane for a format whose planes live in buffers of their own
     * ({@link PixelFormat#NV12M}), laid out linearly to meet the request's stride and offset alignment. Each buffer
     * reports the layout its exporter actually made.
     *
     * @param request a request with a format ({@link BufferRequest#ofFormat}); its name and exporter apply to every
     *        buffer
     * @return the frame, owned by the caller
     * @throws InvalidArgumentException if the request has no format
     * @throws NoExporterException if no exporter can provide the storage; buffers allocated before are put
     * @since 1.2
     */
    FrameBuffer allocateFrame(BufferRequest request);

    /**
     * Creates a pool of {@code count} frames of the request's format, every buffer allocated now, all from one
     * exporter: the one the request names, else the one late allocation picks for the first buffer (the best-ranked
     * exporter that meets the request's constraints: put there the constraints of the devices that will use the
     * frames), to which every other buffer is then held. A frame is one buffer, or one per plane for a format whose
     * planes live in buffers of their own ({@link PixelFormat#NV12M}), laid out as {@link #allocateFrame} lays it
     * out. Each buffer is named as the request says, followed by {@code -} and its frame's index in the pool where
     * that fits in {@link BufferRequest#MAX_NAME_LENGTH}.
     *
     * @param request a request with a format ({@link BufferRequest#ofFormat}); its name, exporter and constraints
     *        apply to every buffer
     * @param count how many frames, greater than zero
     * @return the pool, owned by the caller; it is closed for the caller when the calling bundle stops
     * @throws InvalidArgumentException ({@code EINVAL}) if {@code count} is zero or negative, or the request has no
     *         format
     * @throws NoExporterException if no exporter can provide the storage; buffers allocated before are put
     * @throws DmaBufException ({@code EINVAL}) if the exporter laid the frames out in different ways
     * @since 1.3
     */
    BufferPool createPool(BufferRequest request, int count);

    /**
     * Makes a pool of frames that exist already, a device's own buffers (V4L2 {@code MMAP} buffers exported with
     * {@code VIDIOC_EXPBUF}): the pool takes over the caller's handles and recycles each frame, as
     * {@link #createPool} does, once every holder of each of its buffers released it. Nothing is allocated
     * ({@link BufferPool#allocations()} is 0); closing the pool puts the handles.
     *
     * @param frames the frames, all of one layout, whose handles are the only references to their buffers
     * @return the pool, owned by the caller
     * @throws InvalidArgumentException ({@code EINVAL}) for no frames, frames of different layouts, or a buffer
     *         this registry did not make
     * @throws BufferStateException ({@code EBUSY}) if a buffer has other references
     * @since 1.3
     */
    BufferPool poolOf(List<? extends FrameBuffer> frames);

    /**
     * Turns an fd back into a buffer ({@code dma_buf_get}): the buffer this process already knows by the fd's
     * inode, else the buffer adopted by the exporter that {@code /proc/self/fdinfo} names ({@code exp_name:}),
     * else a foreign dma-buf with mmap and sync only. The caller keeps its fd: the registry takes its own
     * reference.
     *
     * @param fd an fd of a dma-buf or sealed memfd
     * @return a new handle, owned by the caller
     * @throws DmaBufException naming the fd and errno if the fd is closed or is neither a dma-buf nor a memfd
     */
    DmaBuf get(int fd);

    /**
     * Takes a reference of the caller's own on a buffer that another client handed over (a frame from a
     * {@link FrameSource}, a handle passed through a service): the new handle belongs to the calling bundle and is
     * released when that bundle stops, not when the bundle that made the buffer stops. {@link DmaBuf#get()} instead
     * gives a handle with the same owner as the handle it was called on.
     *
     * @param buffer a live handle made by this registry
     * @return a new handle on the same buffer, owned by the caller
     * @throws BufferReleasedException if {@code buffer} was put
     * @throws InvalidArgumentException if {@code buffer} was not made by this registry
     */
    DmaBuf get(DmaBuf buffer);

    /**
     * A snapshot of every live buffer, like the kernel's debugfs {@code bufinfo}.
     *
     * @return one entry per buffer
     */
    List<BufferInfo> bufinfo();

    /**
     * The exporters known now, in the order late allocation tries them.
     *
     * @return best first
     */
    List<ExporterInfo> exporters();
}

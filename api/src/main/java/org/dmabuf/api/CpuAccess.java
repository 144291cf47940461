package org.dmabuf.api;

import java.nio.ByteBuffer;

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
     * A zero-copy view of the whole buffer for this access: a direct {@link ByteBuffer} in the platform's byte
     * order over the buffer's mapping, read-only for a {@link SyncDirection#READ} access. Reading and writing it is
     * plain memory access; use it for per-element work (pixels, samples). A scan of ints or longs through
     * {@code asIntBuffer()} / {@code asLongBuffer()} of the view (native order, aligned) runs as fast as a C loop
     * over the mapping; {@code getLong(index)} on the byte view itself is several times slower.
     *
     * <p><b>The view is valid only while this access is open.</b> After {@link #close()} its bytes are no longer
     * synchronised with devices; the project enforces what it can: a view cannot be made after the end, a read
     * access's view is read-only, and once the buffer is released a view left behind never reaches the buffer's
     * memory nor any other mapping (its pages are replaced by private zero-filled ones, freed when the view is
     * garbage collected), so a stale view reads zeros instead of crashing the JVM. Views derived from it
     * ({@code slice()}, {@code duplicate()}) follow the same rule.
     *
     * @return a new view: position 0, limit and capacity the buffer's size
     * @throws BufferReleasedException if the access has ended
     * @throws DmaBufException with {@code EOVERFLOW} if the buffer is larger than a {@code ByteBuffer} can address
     *     (2 GiB - 1): use {@link #byteBuffer(long, int)}
     */
    ByteBuffer byteBuffer();

    /**
     * A zero-copy view of part of the buffer for this access, under the rules of {@link #byteBuffer()}.
     *
     * @param offset from the start of the buffer
     * @param length bytes
     * @return a new view: position 0, limit and capacity {@code length}, index 0 at {@code offset}
     * @throws IndexOutOfBoundsException if the range is outside the buffer
     * @throws BufferReleasedException if the access has ended
     */
    ByteBuffer byteBuffer(long offset, int length);

    /**
     * Ends the access ({@code DMA_BUF_SYNC_END}) and drops its reference.
     *
     * @throws DmaBufException if the exporter's end-of-access sync fails; the access is ended all the same
     */
    @Override
    void close();
}

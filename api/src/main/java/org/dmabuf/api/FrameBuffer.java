package org.dmabuf.api;

import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One image in one or more buffers, with one lifetime, as libcamera's {@code FrameBuffer}: the
 * {@link BufferFormat layout} says which plane lives in which buffer, at which offset, with which stride. NV12 in
 * one dma-buf is a frame of one buffer; V4L2's {@code NV12M} is a frame of two. Closing the frame puts every buffer
 * handle it holds; take a buffer's own reference with {@link DmaBuf#get()} to keep it longer.
 *
 * <pre>{@code
 * try (FrameBuffer frame = registry.allocateFrame(BufferRequest.ofFormat(PixelFormat.NV12M, 1280, 720))) {
 *     Plane chroma = frame.format().planes().get(1);
 *     DmaBuf holder = frame.buffer(chroma.buffer());   // the buffer of plane 1
 *     channel.send(frame, 7);                          // every buffer's fd and the layout in one message
 * }
 * }</pre>
 *
 * <p>Thread-safe: any thread may call any method; {@link #close()} once (later calls are no-ops).
 *
 * @since 1.2
 */
@ProviderType
public interface FrameBuffer extends AutoCloseable {
    /**
     * The frame's layout: what the exporter or the device actually made, not what was asked for.
     *
     * @return the format; its {@link BufferFormat#buffers()} equals {@code buffers().size()}
     */
    BufferFormat format();

    /**
     * The frame's buffers, by the index its planes name in {@link Plane#buffer()}; handles owned by the frame.
     *
     * @return one to {@link BufferFormat#MAX_PLANES} buffers
     */
    List<DmaBuf> buffers();

    /**
     * One of the frame's buffers.
     *
     * @param index the buffer index, as a {@link Plane#buffer()} names it
     * @return the buffer, a handle owned by the frame
     * @throws InvalidArgumentException if there is no such buffer
     */
    default DmaBuf buffer(int index) {
        List<DmaBuf> all = buffers();
        if (index < 0 || index >= all.size()) {
            throw new InvalidArgumentException("FrameBuffer.buffer", "buffer " + index + " of a frame of "
                    + all.size());
        }
        return all.get(index);
    }

    /** Puts every buffer handle the frame holds. */
    @Override
    void close();
}

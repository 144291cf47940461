package org.dmabuf.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One captured video frame: the buffers the device filled (one, or one per plane for a multi-planar format such as
 * {@code NV12M}), with its sequence number and timestamp. Closing the frame gives its buffers back to the device
 * for the next capture; until then the device cannot reuse them.
 *
 * <p>Threads: any thread may read it; {@link #close()} once, from any thread (later calls are no-ops).
 */
@ProviderType
public interface Frame extends FrameBuffer {
    /**
     * The frame's first buffer (its only one unless the format is multi-planar); a reference owned by the frame:
     * {@link DmaBuf#get()} it to keep it longer.
     *
     * @return {@code buffers().get(0)}
     */
    default DmaBuf buffer() {
        return buffers().get(0);
    }

    /**
     * The driver's sequence number ({@code v4l2_buffer.sequence}).
     *
     * @return the sequence number
     */
    long sequence();

    /**
     * When the frame was captured ({@code v4l2_buffer.timestamp}), in nanoseconds of the driver's clock
     * ({@code CLOCK_MONOTONIC} for most drivers).
     *
     * @return nanoseconds
     */
    long timestampNanos();

    /**
     * The bytes the device wrote into the first buffer ({@code bytesused}).
     *
     * @return bytes
     */
    default long bytesUsed() {
        return bytesUsed(0);
    }

    /**
     * The bytes the device wrote into one buffer ({@code bytesused} of that V4L2 plane).
     *
     * @param buffer the buffer index
     * @return bytes
     * @throws InvalidArgumentException if there is no such buffer
     * @since 1.2
     */
    long bytesUsed(int buffer);

    /**
     * The frame's layout, as the driver set it: {@code bytesperline} and {@code sizeimage} of every plane.
     *
     * @return the format
     */
    @Override
    BufferFormat format();

    /** Gives the buffers back to the device. */
    @Override
    void close();
}

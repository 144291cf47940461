package org.dmabuf.api;

import org.osgi.annotation.versioning.ProviderType;

/**
 * One captured video frame: a buffer the device filled, with its sequence number and timestamp. Closing the frame
 * gives the buffer back to the device for the next capture; until then the device cannot reuse it.
 *
 * <p>Threads: any thread may read it; {@link #close()} once, from any thread (later calls are no-ops).
 */
@ProviderType
public interface Frame extends AutoCloseable {
    /**
     * The buffer holding the frame; a reference owned by the frame: {@link DmaBuf#get()} it to keep it longer.
     *
     * @return the buffer
     */
    DmaBuf buffer();

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
     * The bytes of the first plane the device wrote ({@code bytesused}).
     *
     * @return bytes
     */
    long bytesUsed();

    /**
     * The frame's layout, as the driver set it.
     *
     * @return the format
     */
    BufferFormat format();

    /** Gives the buffer back to the device. */
    @Override
    void close();
}

package org.dmabuf.api;

import java.util.Optional;

/**
 * A buffer that arrived on a {@link BufferChannel}, with the metadata the sender put in its frame. The buffer is a
 * handle owned by the receiver: close this (or the buffer) when done. Immutable but for the handle.
 *
 * @param buffer the buffer, as {@link DmaBufRegistry#get(int)} gives it: the same object if this process already
 *        knows it
 * @param tag the sender's tag
 * @param name the name the sender gave, empty when none
 * @param exporter the exporter name the sender gave, empty when none
 * @param format the image format the sender gave (fourcc, width, height, one plane's stride), if any
 */
public record ReceivedBuffer(DmaBuf buffer, long tag, String name, String exporter, Optional<BufferFormat> format)
        implements AutoCloseable {
    /** Puts the buffer handle. */
    @Override
    public void close() {
        buffer.close();
    }
}

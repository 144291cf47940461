package org.dmabuf.api;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A buffer, or the buffers of one frame, that arrived on a {@link BufferChannel} in one message, with the metadata
 * the sender put in it. The buffers are handles owned by the receiver: close this when done. Immutable but for the
 * handles.
 *
 * @param buffers the buffers, as {@link DmaBufRegistry#get(int)} gives them (the same objects if this process
 *        already knows them), by the index the format's planes name: one, or up to
 *        {@link BufferFormat#MAX_PLANES} for a frame whose planes live in several buffers
 * @param tag the sender's tag
 * @param name the name the sender gave, empty when none
 * @param exporter the exporter name the sender gave, empty when none
 * @param format the frame's layout the sender gave (fourcc, modifier, size, every plane's buffer, offset and
 *        stride), if any
 */
public record ReceivedBuffer(List<DmaBuf> buffers, long tag, String name, String exporter,
        Optional<BufferFormat> format) implements AutoCloseable {
    /**
     * Checks and copies the values.
     *
     * @throws InvalidArgumentException if there is no buffer, or the format names another number of buffers
     */
    public ReceivedBuffer {
        buffers = List.copyOf(buffers);
        Objects.requireNonNull(format, "format");
        if (buffers.isEmpty() || format.isPresent() && format.get().buffers() != buffers.size()) {
            throw new InvalidArgumentException("ReceivedBuffer", buffers.size() + " buffers for "
                    + format.map(BufferFormat::describe).orElse("no format"));
        }
    }

    /**
     * A single buffer.
     *
     * @param buffer the buffer
     * @param tag the sender's tag
     * @param name the name the sender gave
     * @param exporter the exporter name the sender gave
     * @param format the layout, if any
     */
    public ReceivedBuffer(DmaBuf buffer, long tag, String name, String exporter, Optional<BufferFormat> format) {
        this(List.of(buffer), tag, name, exporter, format);
    }

    /**
     * The first (usually the only) buffer.
     *
     * @return {@code buffers().get(0)}
     */
    public DmaBuf buffer() {
        return buffers.get(0);
    }

    /**
     * The buffers and their layout as one frame, sharing this record's handles: closing either closes both.
     *
     * @return the frame, if the sender gave a format
     * @since 1.2
     */
    public Optional<FrameBuffer> frame() {
        return format.map(f -> new FrameBuffer() {
            @Override
            public BufferFormat format() {
                return f;
            }

            @Override
            public List<DmaBuf> buffers() {
                return buffers;
            }

            @Override
            public void close() {
                ReceivedBuffer.this.close();
            }
        });
    }

    /** Puts every buffer handle (a no-op for a handle already put). */
    @Override
    public void close() {
        for (DmaBuf b : buffers) {
            b.close();
        }
    }
}

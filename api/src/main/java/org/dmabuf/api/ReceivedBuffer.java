package org.dmabuf.api;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A buffer, or the buffers of one frame, that arrived on a {@link BufferChannel} in one message, with the metadata
 * the sender put in it. The buffers are handles owned by the receiver: close this when done. When the sender asked
 * for the frame back ({@code RELEASE_WANTED}, see {@link ChannelOptions#withReleases()}), {@link #close()} also
 * returns it: it puts the buffers, then sends the sender a RELEASE naming {@link #frameId()}, once. Immutable but
 * for the handles; thread-safe: {@link #close()} from any thread, any number of times.
 */
public final class ReceivedBuffer implements AutoCloseable {
    private final List<DmaBuf> buffers;
    private final long frameId;
    private final long tag;
    private final String name;
    private final String exporter;
    private final Optional<BufferFormat> format;
    private final Runnable onClose;
    private final Fence fence;
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * A frame, with what happens once its buffers are put.
     *
     * @param buffers the buffers, as {@link DmaBufRegistry#get(int)} gives them (the same objects if this process
     *        already knows them), by the index the format's planes name: one, or up to
     *        {@link BufferFormat#MAX_PLANES} for a frame whose planes live in several buffers
     * @param frameId the sender's id of the frame (wire format version 2), 0 when it has none
     * @param tag the sender's tag
     * @param name the name the sender gave, empty when none
     * @param exporter the exporter name the sender gave, empty when none
     * @param format the frame's layout the sender gave (fourcc, modifier, size, every plane's buffer, offset and
     *        stride), if any
     * @param onClose run once by the first {@link #close()}, after the buffers were put (a channel sends the
     *        RELEASE there); null for nothing. It must not throw.
     * @throws InvalidArgumentException if there is no buffer, or the format names another number of buffers
     * @since 1.2
     */
    public ReceivedBuffer(List<DmaBuf> buffers, long frameId, long tag, String name, String exporter,
            Optional<BufferFormat> format, Runnable onClose) {
        this(buffers, frameId, tag, name, exporter, format, null, onClose);
    }

    /**
     * A frame with the fence of its last writer, and what happens once its buffers are put.
     *
     * @param buffers the buffers, by index
     * @param frameId the sender's id of the frame, 0 when it has none
     * @param tag the sender's tag
     * @param name the name the sender gave, empty when none
     * @param exporter the exporter name the sender gave, empty when none
     * @param format the frame's layout, if any
     * @param fence the fence that came with the frame, owned by this object from now on (closed by
     *        {@link #close()}), or null
     * @param onClose run once by the first {@link #close()}, after the buffers were put; null for nothing
     * @throws InvalidArgumentException if there is no buffer, or the format names another number of buffers
     * @since 1.3
     */
    public ReceivedBuffer(List<DmaBuf> buffers, long frameId, long tag, String name, String exporter,
            Optional<BufferFormat> format, Fence fence, Runnable onClose) {
        this.fence = fence;
        this.buffers = List.copyOf(buffers);
        this.frameId = frameId;
        this.tag = tag;
        this.name = Objects.requireNonNull(name, "name");
        this.exporter = Objects.requireNonNull(exporter, "exporter");
        this.format = Objects.requireNonNull(format, "format");
        this.onClose = onClose;
        if (this.buffers.isEmpty() || format.isPresent() && format.get().buffers() != this.buffers.size()) {
            throw new InvalidArgumentException("ReceivedBuffer", this.buffers.size() + " buffers for "
                    + format.map(BufferFormat::describe).orElse("no format"));
        }
    }

    /**
     * A frame that is not returned to its sender, frame id 0.
     *
     * @param buffers the buffers, by index
     * @param tag the sender's tag
     * @param name the name the sender gave, empty when none
     * @param exporter the exporter name the sender gave, empty when none
     * @param format the frame's layout, if any
     * @throws InvalidArgumentException if there is no buffer, or the format names another number of buffers
     */
    public ReceivedBuffer(List<DmaBuf> buffers, long tag, String name, String exporter,
            Optional<BufferFormat> format) {
        this(buffers, 0, tag, name, exporter, format, null);
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
     * The buffers, by the index the format's planes name.
     *
     * @return the buffers
     */
    public List<DmaBuf> buffers() {
        return buffers;
    }

    /**
     * The id the sender gave the frame (wire format version 2), by which a RELEASE returns it.
     *
     * @return the id; 0 for a version 1 frame
     * @since 1.2
     */
    public long frameId() {
        return frameId;
    }

    /**
     * The sender's tag.
     *
     * @return the tag
     */
    public long tag() {
        return tag;
    }

    /**
     * The name the sender gave.
     *
     * @return the name, empty when none
     */
    public String name() {
        return name;
    }

    /**
     * The exporter name the sender gave.
     *
     * @return the exporter name, empty when none
     */
    public String exporter() {
        return exporter;
    }

    /**
     * The frame's layout the sender gave.
     *
     * @return the layout, if any
     */
    public Optional<BufferFormat> format() {
        return format;
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
     * The buffers and their layout as one frame, sharing this object's handles: closing either closes both (and
     * returns the frame to its sender if it asked for it).
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

    /**
     * The fence the sender sent with the frame (a {@code sync_file}): wait on it ({@link Fence#await}) before
     * reading the buffers when it is present. Owned by this object.
     *
     * @return the fence, or empty when the frame came without one
     * @since 1.3
     */
    public Optional<Fence> fence() {
        return Optional.ofNullable(fence);
    }

    /**
     * Closes the fence, puts every buffer handle (a no-op for a handle already put); the first call then returns
     * the frame to its sender if it asked for it (the RELEASE is sent once; if the channel is gone, nothing is sent and nothing
     * fails).
     */
    @Override
    public void close() {
        if (fence != null) {
            fence.close();
        }
        for (DmaBuf b : buffers) {
            b.close();
        }
        if (onClose != null && closed.compareAndSet(false, true)) {
            onClose.run();
        }
    }

    @Override
    public String toString() {
        return "ReceivedBuffer[frameId=" + frameId + ", tag=" + tag + ", name=" + name + ", exporter=" + exporter
                + ", buffers=" + buffers + ", format=" + format.map(BufferFormat::describe).orElse("none") + "]";
    }
}

package org.dmabuf.api;

import java.time.Duration;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A connection to another process over a Unix-domain socket that carries buffers: each {@link #send} passes the
 * buffer's fd with {@code SCM_RIGHTS} in one frame with its metadata; each {@link #receive} turns an arriving fd
 * back into a buffer through the registry. The wire format is documented in {@code docs/wire-format.md}.
 *
 * <p>Threads: one thread at a time may send and one at a time may receive; {@link #close()} from any thread wakes
 * a blocked receive.
 */
@ProviderType
public interface BufferChannel extends AutoCloseable {
    /**
     * Sends a buffer: its fd, size, name, exporter, format and the caller's tag. The buffer stays the caller's;
     * the peer gets its own reference to the same memory.
     *
     * @param buffer the buffer, committed to storage first if needed
     * @param tag anything the caller wants the peer to see, for example a frame number
     * @throws DmaBufException naming {@code sendmsg} and errno ({@code EPIPE} when the peer is gone);
     *         {@code EINVAL} if the buffer's format would be refused by the receiver (a stride smaller than a
     *         line, an image larger than the buffer); nothing is sent then
     */
    void send(DmaBuf buffer, long tag);

    /**
     * Sends a buffer as {@link #send(DmaBuf, long)} does, waiting at most {@code timeout} for the peer to make room
     * (a peer that stops reading fills the socket's queue). When the time runs out nothing was sent: a frame is
     * queued whole or not at all, and the peer gets no fd.
     *
     * @param buffer the buffer, committed to storage first if needed
     * @param tag anything the caller wants the peer to see
     * @param timeout how long to wait for room; zero tries once
     * @throws DmaBufException {@code EAGAIN} naming {@code sendmsg} when the peer did not read in time, as
     *         {@code sendmsg} with {@code MSG_DONTWAIT} or {@code SO_SNDTIMEO} reports it; {@code EPIPE} when the
     *         peer is gone; {@code EINVAL} for a null or negative timeout
     * @since 1.1
     */
    void send(DmaBuf buffer, long tag, Duration timeout);

    /**
     * Sends a frame: every buffer's fd in one message with the frame's layout (fourcc, modifier, each plane's buffer,
     * offset and stride) and the caller's tag. The buffers stay the caller's.
     *
     * @param frame the frame
     * @param tag anything the caller wants the peer to see
     * @param timeout how long to wait for room, as {@link #send(DmaBuf, long, Duration)}; zero tries once
     * @throws DmaBufException as {@link #send(DmaBuf, long, Duration)}; {@code EINVAL} if a buffer is smaller than
     *         the planes the layout puts in it
     * @since 1.2
     */
    void send(FrameBuffer frame, long tag, Duration timeout);

    /**
     * Receives the next buffer. A frame that breaks the wire format (bad magic, version, type or lengths, too
     * long, a message of 0 bytes, a wrong number of fds, a size other than the fd's buffer's, a name or exporter
     * that is not UTF-8 or holds NUL or other control characters, a format whose stride is smaller than a line or
     * whose image is larger than the buffer) is refused with every fd that came with it closed and the buffer put;
     * the channel stays usable. A peer that died delivers every frame it sent before the end of stream.
     *
     * @param timeout how long to wait; null waits forever
     * @return the buffer, owned by the caller, or null if the time ran out
     * @throws ChannelProtocolException ({@code EPROTO}, {@code EMSGSIZE}) for a refused frame
     * @throws DmaBufException ({@code EPIPE}) when the peer closed the connection or died, or this channel was
     *         closed; {@code EINVAL} or {@code EPERM} from {@link DmaBufRegistry#get(int)} for an fd that is no
     *         buffer or a memfd that cannot be sealed
     */
    ReceivedBuffer receive(Duration timeout);

    /**
     * The peer's credentials, checked against the allowed uids when the connection was made.
     *
     * @return the peer
     */
    PeerCredentials peer();

    /** Closes the connection; a blocked {@link #receive} fails with {@code EPIPE}. */
    @Override
    void close();
}

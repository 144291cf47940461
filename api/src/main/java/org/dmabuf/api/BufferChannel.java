package org.dmabuf.api;

import java.time.Duration;
import java.util.function.LongConsumer;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A connection to another process over a Unix-domain socket that carries buffers: each {@link #send} passes the
 * buffer's fd with {@code SCM_RIGHTS} in one frame with its metadata; each {@link #receive} turns an arriving fd
 * back into a buffer through the registry. The wire format is documented in {@code docs/wire-format.md}.
 *
 * <p>Threads: one thread at a time may send and one at a time may receive; {@link #close()} from any thread wakes
 * a blocked receive. {@link #framesOut()} and {@link #onRelease} from any thread.
 *
 * <p>Releases ({@link ChannelOptions#withReleases()}): every frame sent asks the peer to return it, and the channel
 * holds a reference on each of its buffers until the peer's RELEASE for it arrives or the connection ends. Such a
 * channel owns one reader thread, started when the channel is made and stopped and joined by {@link #close()},
 * that reads every message the peer sends: a RELEASE puts the frame's references (then calls the
 * {@link #onRelease} listener, on that thread); a frame, or the error that refused one, waits in a queue of
 * {@value #QUEUED_FRAMES} for {@link #receive} (a full queue makes the reader wait, so a peer that sends frames
 * meets backpressure, and no RELEASE is read meanwhile: receive what the peer sends); the end of the stream puts
 * every reference still held. Without releases a channel has no thread: {@link #receive} reads the socket.
 */
@ProviderType
public interface BufferChannel extends AutoCloseable {
    /**
     * How many received frames a channel with releases keeps for {@link #receive} before its reader waits.
     *
     * @since 1.2
     */
    int QUEUED_FRAMES = 8;

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
     * @return the frame's id on this channel, which {@link #onRelease} gives back when the peer returns it (version
     *         2 numbers frames 1, 2, … on each channel); 0 when sent in version 1
     * @throws DmaBufException as {@link #send(DmaBuf, long, Duration)}; {@code EINVAL} if a buffer is smaller than
     *         the planes the layout puts in it
     * @since 1.2
     */
    long send(FrameBuffer frame, long tag, Duration timeout);

    /**
     * Sends a frame with the fence of its last writer, as {@link #send(FrameBuffer, long, Duration)}: the fence's
     * {@code sync_file} fd travels after the buffers' fds, and the receiver waits on it
     * ({@link ReceivedBuffer#fence()}) before it reads the buffers, instead of the sender waiting before it sends.
     * Send fences only to a peer that takes them (this project's receivers do; a receiver that does not refuses
     * the frame); for another peer, {@link Fence#await} first and send without one. The fence stays the caller's.
     *
     * @param frame the frame
     * @param tag anything the caller wants the peer to see
     * @param timeout how long to wait for room
     * @param fence the fence, or null for none
     * @return the frame's id on this channel, as {@link #send(FrameBuffer, long, Duration)}
     * @throws DmaBufException as {@link #send(FrameBuffer, long, Duration)}; {@code EINVAL} for a fence on a channel
     *         of wire version 1, which cannot carry one; {@code EBADF} for a closed fence
     * @since 1.3
     */
    long send(FrameBuffer frame, long tag, Duration timeout, Fence fence);

    /**
     * The frames sent with {@code RELEASE_WANTED} (on a channel with {@link ChannelOptions#withReleases()}) that
     * the peer has not returned yet; each holds a reference on its buffers. 0 once the connection ended.
     *
     * @return the count; always 0 without releases
     * @since 1.2
     */
    int framesOut();

    /**
     * Sets the one listener told of each frame the peer returns, after the channel put its references on the
     * frame's buffers. It runs on the channel's reader thread: it must be quick, must not throw, and may call
     * {@link #send} and {@link #framesOut()}. Frames still out when the connection ends are not reported: they are
     * put, and {@link #framesOut()} is 0.
     *
     * @param frameIdListener called with each returned frame's id (as {@link #send(FrameBuffer, long, Duration)}
     *        returned it); null for none
     * @since 1.2
     */
    void onRelease(LongConsumer frameIdListener);

    /**
     * Waits until a frame sent with releases is back: the peer's RELEASE for it was read and its references put,
     * or the connection ended (then every frame is put). While it waits, the calling thread reads the socket itself
     * when no other thread does, as {@link #receive} does, so a producer that waits for its frame before reusing the
     * buffer pays no hand-over from the reader thread; frames it reads on the way are kept for {@link #receive}, and
     * the release listener is still told on the reader thread.
     *
     * @param frameId the id {@link #send(FrameBuffer, long, Duration)} returned; an id not out returns at once
     * @param timeout how long to wait at most
     * @return true once the frame is back; false if the time ran out first
     * @throws BufferStateException with {@code EINVAL} if the channel was opened without
     *     {@link ChannelOptions#withReleases()}
     * @throws DmaBufException with {@code EINTR} if the thread is interrupted while waiting
     * @since 1.4
     */
    boolean awaitRelease(long frameId, Duration timeout);

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

    /**
     * Closes the connection; a blocked {@link #receive} fails with {@code EPIPE}. With releases: stops and joins
     * the reader thread, puts every reference still held and closes the frames still queued.
     */
    @Override
    void close();
}

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
     * @throws DmaBufException naming {@code sendmsg} and errno ({@code EPIPE} when the peer is gone)
     */
    void send(DmaBuf buffer, long tag);

    /**
     * Receives the next buffer. A frame that breaks the wire format (bad magic, version, type or lengths, too
     * long, a wrong number of fds, a size larger than the fd's buffer) is refused with every fd that came with it
     * closed; the channel stays usable.
     *
     * @param timeout how long to wait; null waits forever
     * @return the buffer, owned by the caller, or null if the time ran out
     * @throws ChannelProtocolException ({@code EPROTO}, {@code EMSGSIZE}) for a refused frame
     * @throws DmaBufException ({@code EPIPE}) when the peer closed the connection or died
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

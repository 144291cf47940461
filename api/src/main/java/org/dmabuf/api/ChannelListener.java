package org.dmabuf.api;

import java.nio.file.Path;
import java.time.Duration;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A listening socket file that accepts {@link BufferChannel}s. Closing it removes the socket file.
 *
 * <p>Threads: one thread at a time accepts; {@link #close()} from any thread.
 */
@ProviderType
public interface ChannelListener extends AutoCloseable {
    /**
     * The socket file.
     *
     * @return its path (mode 0600 in a folder of mode 0700, or 0660 in a folder of 0750 with a group)
     */
    Path path();

    /**
     * Accepts the next connection from an allowed peer; a peer whose uid is not allowed is disconnected and
     * reported.
     *
     * @param timeout how long to wait; null waits forever
     * @return the channel, owned by the caller, or null if the time ran out
     * @throws DmaBufException ({@code EACCES}) naming the peer's pid and uid when it is not allowed
     */
    BufferChannel accept(Duration timeout);

    /** Stops listening and removes the socket file. */
    @Override
    void close();
}

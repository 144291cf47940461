package org.dmabuf.api;

import java.nio.file.Path;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Opens buffer channels between processes: Unix-domain sockets that pass dma-buf and memfd fds with
 * {@code SCM_RIGHTS}. Registered as an OSGi service with one instance per client bundle, like
 * {@link DmaBufRegistry}: received buffers belong to that bundle and are released when it stops.
 *
 * <p>Thread-safe: any thread may call any method.
 */
@ProviderType
public interface BufferChannels {
    /**
     * Listens on a socket file. Its folder is created with mode 0700 if absent, and refused if it exists and other
     * users can reach it; the socket file gets mode 0600. A stale socket file nobody listens on is replaced.
     *
     * @param socket the socket file's path (at most 107 bytes)
     * @param options the peers to allow
     * @return the listener, owned by the caller
     * @throws DmaBufException naming the call, the path and errno ({@code EADDRINUSE} when another process
     *         listens there, {@code EACCES} for a folder others can reach)
     */
    ChannelListener listen(Path socket, ChannelOptions options);

    /**
     * Connects to a listening socket file and checks the listener's credentials.
     *
     * @param socket the socket file
     * @param options the peers to allow
     * @return the channel, owned by the caller
     * @throws DmaBufException naming {@code connect}, the path and errno ({@code ENOENT}, {@code ECONNREFUSED}),
     *         or {@code EACCES} when the listener's uid is not allowed
     */
    BufferChannel connect(Path socket, ChannelOptions options);
}

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
     * Listens on a socket file. Its folder is created with mode 0700 (0750 in the options' group) if absent; an
     * existing one is refused if another user owns it, or if users outside the options allow can reach it (any
     * group or other permission without a group; group write, another group, or any other permission with one).
     * The socket file gets mode 0600 (0660 in the group). A socket file nobody listens on
     * ({@code connect} fails with {@code ECONNREFUSED}) is replaced; any other file is left in place.
     *
     * @param socket the socket file's path (at most 107 bytes)
     * @param options the peers to allow, and the group that may reach the socket (see {@link ChannelOptions})
     * @return the listener, owned by the caller
     * @throws DmaBufException naming the call, the path and errno ({@code EADDRINUSE} when another process
     *         listens there or the file is not a socket, {@code EPERM} for a folder owned by another user,
     *         {@code EACCES} for a folder others can reach, {@code EINVAL} for allowed users no file mode lets in,
     *         the errno of {@code connect} when the file's state cannot be told)
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

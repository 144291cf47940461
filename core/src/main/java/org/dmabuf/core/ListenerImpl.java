package org.dmabuf.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.linux.UnixSocket;

/** A listening socket file. Threads: one accepting thread at a time; {@link #close()} from any thread. */
final class ListenerImpl implements ChannelListener {
    private final UnixSocket socket;
    private final Path path;
    private final DmaBufRegistry registry;
    private final Set<Integer> allowed;

    ListenerImpl(UnixSocket socket, Path path, DmaBufRegistry registry, Set<Integer> allowed) {
        this.socket = socket;
        this.path = path;
        this.registry = registry;
        this.allowed = allowed;
    }

    @Override
    public Path path() {
        return path;
    }

    @Override
    public BufferChannel accept(Duration timeout) {
        UnixSocket s = socket.accept(timeout);
        if (s == null) {
            return null;
        }
        return new ChannelImpl(s, registry, ChannelImpl.check(s, allowed, "accept", path.toString()));
    }

    @Override
    public void close() {
        socket.close();
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // the folder went away or is not ours any more: nothing left to clean
        }
    }
}

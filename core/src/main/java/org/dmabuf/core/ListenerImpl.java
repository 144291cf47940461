package org.dmabuf.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.linux.UnixSocket;

/**
 * A listening socket file. Channels it accepts are tracked by the {@link Channels} that opened it.
 * Threads: one accepting thread at a time; {@link #close()} from any thread.
 */
final class ListenerImpl implements ChannelListener {
    private final UnixSocket socket;
    private final Path path;
    private final Channels channels;
    private final Set<Integer> allowed;
    private final int wireVersion;
    private final boolean releases;
    private final AtomicBoolean closed = new AtomicBoolean();

    ListenerImpl(UnixSocket socket, Path path, Channels channels, Set<Integer> allowed, int wireVersion,
            boolean releases) {
        this.socket = socket;
        this.path = path;
        this.channels = channels;
        this.allowed = allowed;
        this.wireVersion = wireVersion;
        this.releases = releases;
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
        return channels.channel(s, allowed, wireVersion, releases, "accept", path.toString());
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return; // the file is not ours any more: another listener may have taken its name
        }
        try {
            socket.close();
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // the folder went away or is not ours any more: nothing left to clean
        } finally {
            channels.untrack(this);
        }
    }
}

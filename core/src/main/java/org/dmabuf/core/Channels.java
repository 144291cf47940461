package org.dmabuf.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.Set;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferChannels;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.SocketLibC;
import org.dmabuf.linux.UnixSocket;

/**
 * Opens buffer channels; received buffers go through the given registry, so they belong to its owner.
 * Thread-safe; any thread.
 */
final class Channels implements BufferChannels {
    private final DmaBufRegistry registry;

    Channels(DmaBufRegistry registry) {
        this.registry = registry;
    }

    private static Set<Integer> allowed(ChannelOptions options) {
        Set<Integer> s = new HashSet<>(options.allowedUids());
        if (s.isEmpty()) {
            s.add(SocketLibC.getuid());
        }
        return Set.copyOf(s);
    }

    @Override
    public ChannelListener listen(Path socket, ChannelOptions options) {
        Path file = socket.toAbsolutePath();
        privateFolder(file.getParent());
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            replaceStale(file);
        }
        UnixSocket s = UnixSocket.listen(file, 0600);
        return new ListenerImpl(s, file, registry, allowed(options));
    }

    @Override
    public BufferChannel connect(Path socket, ChannelOptions options) {
        UnixSocket s = UnixSocket.connect(socket.toAbsolutePath());
        return new ChannelImpl(s, registry, ChannelImpl.check(s, allowed(options), "connect", socket.toString()));
    }

    /** Creates the folder 0700, or checks that an existing one is not reachable by other users. */
    private static void privateFolder(Path dir) {
        try {
            if (!Files.exists(dir)) {
                Files.createDirectories(dir);
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
                return;
            }
            Set<PosixFilePermission> p = Files.getPosixFilePermissions(dir);
            for (PosixFilePermission x : p) {
                if (x.name().startsWith("GROUP") || x.name().startsWith("OTHERS")) {
                    throw new DmaBufException("listen", "EACCES", "folder " + dir + " has mode "
                            + PosixFilePermissions.toString(p) + ": other users could reach the socket; use a "
                            + "folder only this user can reach (rwx------)");
                }
            }
        } catch (IOException e) {
            throw new DmaBufException("listen", "EIO", "folder " + dir + ": " + e, e);
        }
    }

    private static boolean isSocket(Path file) {
        try {
            return Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS).isOther();
        } catch (IOException e) {
            return false;
        }
    }

    /** A socket file nobody listens on is left by a process that died: remove it. One in use is refused. */
    private static void replaceStale(Path file) {
        if (!isSocket(file)) {
            throw new LinuxException("bind", file + " exists and is not a socket", Errno.EADDRINUSE);
        }
        try (UnixSocket probe = UnixSocket.connect(file)) {
            throw new LinuxException("bind", file + " (another process listens there)", Errno.EADDRINUSE);
        } catch (LinuxException e) {
            if (e.errnoValue() == Errno.EADDRINUSE) {
                throw e;
            }
            try {
                Files.delete(file);
            } catch (IOException io) {
                throw new DmaBufException("listen", "EIO", "stale socket file " + file + " cannot be removed: " + io,
                        io);
            }
        }
    }
}

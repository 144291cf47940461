package org.dmabuf.core;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferChannels;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.SocketLibC;
import org.dmabuf.linux.UnixSocket;

/**
 * Opens buffer channels; received buffers go through the given registry, so they belong to its owner. Every
 * listener and channel it opens (accepted ones included) is tracked until closed, and {@link #close()} closes those
 * still open (removing listeners' socket files); after it, opening anything fails with {@code ENODEV}.
 * Thread-safe; any thread.
 */
final class Channels implements BufferChannels, AutoCloseable {
    private static final Set<PosixFilePermission> GROUP_WRITE_OR_OTHERS = Set.of(PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private final DmaBufRegistry registry;
    private final String owner;
    private final Set<AutoCloseable> open = new HashSet<>();
    private boolean closed;

    Channels(DmaBufRegistry registry) {
        this(registry, "this registry");
    }

    Channels(DmaBufRegistry registry, String owner) {
        this.registry = registry;
        this.owner = owner;
    }

    private static Set<Integer> allowed(ChannelOptions options) {
        Set<Integer> s = new HashSet<>(options.allowedUids());
        if (s.isEmpty()) {
            s.add(SocketLibC.getuid());
        }
        return Set.copyOf(s);
    }

    /** Tracks something just opened, or closes it and fails if this was closed meanwhile. */
    <T extends AutoCloseable> T track(T resource, String call) {
        synchronized (open) {
            if (!closed) {
                open.add(resource);
                return resource;
            }
        }
        try {
            resource.close();
        } catch (Exception e) {
            // closing what nobody will use; the failure below says enough
        }
        throw gone(call);
    }

    void untrack(AutoCloseable resource) {
        synchronized (open) {
            open.remove(resource);
        }
    }

    private void live(String call) {
        synchronized (open) {
            if (closed) {
                throw gone(call);
            }
        }
    }

    private DmaBufException gone(String call) {
        return new DmaBufException(call, "ENODEV", "the buffer channels of " + owner + " were closed");
    }

    /** How many listeners and channels are open, for tests. */
    int openCount() {
        synchronized (open) {
            return open.size();
        }
    }

    /** Closes every listener (removing its socket file) and channel still open; later calls fail. */
    @Override
    public void close() {
        List<AutoCloseable> all;
        synchronized (open) {
            closed = true;
            all = new ArrayList<>(open);
        }
        RuntimeException failure = null;
        for (AutoCloseable c : all) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new DmaBufException("close", null, "closing the channels of " + owner, e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public ChannelListener listen(Path socket, ChannelOptions options) {
        live("listen");
        Path file = socket.toAbsolutePath();
        Set<Integer> allowed = allowed(options);
        int me = SocketLibC.getuid();
        int gid = options.groupId().orElse(-1);
        if (gid == -1) {
            for (int uid : allowed) {
                if (uid != me && uid != 0) {
                    throw new InvalidArgumentException("listen", file + ": uid " + uid + " is allowed, but the "
                            + "socket file is 0600 in a 0700 folder, which only uid " + me + " and root can reach; "
                            + "give a group both users belong to (ChannelOptions.withGroup)");
                }
            }
        }
        folder(file.getParent(), me, gid);
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
            replaceStale(file);
        }
        UnixSocket s = UnixSocket.listen(file, gid == -1 ? 0600 : 0660, gid);
        ListenerImpl l = new ListenerImpl(s, file, this, allowed, options.wireVersion(), options.releases());
        return track(l, "listen");
    }

    @Override
    public BufferChannel connect(Path socket, ChannelOptions options) {
        live("connect");
        UnixSocket s = UnixSocket.connect(socket.toAbsolutePath());
        return channel(s, allowed(options), options.wireVersion(), options.releases(), "connect",
                socket.toString());
    }

    /**
     * Checks the peer of a new connection and tracks its channel, which sends the given wire format version and,
     * with releases, starts its reader thread.
     */
    BufferChannel channel(UnixSocket s, Set<Integer> allowed, int wireVersion, boolean releases, String call,
            String where) {
        ChannelImpl[] self = new ChannelImpl[1];
        self[0] = new ChannelImpl(s, registry, ChannelImpl.check(s, allowed, call, where), () -> untrack(self[0]),
                wireVersion, releases);
        self[0].start();
        return track(self[0], call);
    }

    /**
     * Creates the folder (0700, or 0750 in the group), or checks an existing one: owned by this user, reachable by
     * nobody else (without a group), or by nobody but the group's members, who cannot write it (with one).
     */
    private static void folder(Path dir, int me, int gid) {
        String mode = gid == -1 ? "rwx------" : "rwxr-x---";
        try {
            if (!Files.exists(dir)) {
                Files.createDirectories(dir.getParent());
                try {
                    Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(
                            PosixFilePermissions.fromString("rwx------")));
                } catch (java.nio.file.FileAlreadyExistsException e) {
                    // created meanwhile by another thread or process: checked below like any existing folder
                    folder(dir, me, gid);
                    return;
                }
                if (gid != -1) {
                    SocketLibC.chown(dir.toString(), -1, gid);
                }
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(mode));
                return;
            }
            if (Files.isSymbolicLink(dir)) {
                // whoever owns the link can point it elsewhere once the socket is made: only ours or root's
                int linkOwner = (Integer) Files.getAttribute(dir, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS);
                if (linkOwner != me && linkOwner != 0) {
                    throw new DmaBufException("listen", "EPERM", "folder " + dir + " is a symbolic link owned by uid "
                            + linkOwner + ", not by this process's uid " + me + " or root: its owner could point it "
                            + "at another socket; use the folder it points to, or a folder of this user's");
                }
            }
            PosixFileAttributes a = Files.readAttributes(dir, PosixFileAttributes.class);
            int uid = (Integer) Files.getAttribute(dir, "unix:uid");
            int group = (Integer) Files.getAttribute(dir, "unix:gid");
            if (!a.isDirectory()) {
                throw new LinuxException("listen", dir + " is not a folder", Errno.ENOTDIR);
            }
            if (uid != me) {
                throw new DmaBufException("listen", "EPERM", "folder " + dir + " is owned by uid " + uid
                        + ", not by this process's uid " + me + ": its owner could replace the socket; use a folder "
                        + "of this user's");
            }
            Set<PosixFilePermission> p = a.permissions();
            String has = PosixFilePermissions.toString(p);
            if (gid == -1) {
                for (PosixFilePermission x : p) {
                    if (x.name().startsWith("GROUP") || x.name().startsWith("OTHERS")) {
                        throw new DmaBufException("listen", "EACCES", "folder " + dir + " has mode " + has
                                + ": other users could reach the socket; use a folder only this user can reach ("
                                + mode + ")");
                    }
                }
            } else {
                boolean wrongGroup = group != gid && p.stream().anyMatch(x -> x.name().startsWith("GROUP"));
                if (wrongGroup || p.stream().anyMatch(GROUP_WRITE_OR_OTHERS::contains)) {
                    throw new DmaBufException("listen", "EACCES", "folder " + dir + " has mode " + has + " in group "
                            + group + ": users outside group " + gid + ", or its members, could reach or replace the "
                            + "socket; use " + mode + " in group " + gid);
                }
                if (group != gid || !p.contains(PosixFilePermission.GROUP_EXECUTE)) {
                    throw new DmaBufException("listen", "EACCES", "folder " + dir + " has mode " + has + " in group "
                            + group + ": the members of group " + gid + " could not reach the socket; use " + mode
                            + " in group " + gid);
                }
            }
        } catch (com.sun.jna.LastErrorException e) {
            throw new LinuxException("chown", dir + " (group " + gid + ")", e.getErrorCode());
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

    /**
     * A socket file nobody listens on is left by a process that died: only then ({@code connect} fails with
     * {@code ECONNREFUSED}) is it removed. One in use (connected, or a full backlog) is refused; any other
     * failure leaves the file in place and is reported.
     */
    private static void replaceStale(Path file) {
        if (!isSocket(file)) {
            throw new LinuxException("bind", file + " exists and is not a socket", Errno.EADDRINUSE);
        }
        int err = UnixSocket.probe(file);
        if (err == 0 || err == Errno.EAGAIN) {
            throw new LinuxException("bind", file + " (another process listens there)", Errno.EADDRINUSE);
        }
        if (err != SocketLibC.ECONNREFUSED) {
            throw new LinuxException("connect", file + " (probing whether the socket file is stale; left in place)",
                    err);
        }
        try {
            Files.delete(file);
        } catch (java.nio.file.NoSuchFileException e) {
            // removed meanwhile: bind will tell whether someone else took the name
        } catch (IOException io) {
            throw new DmaBufException("listen", "EIO", "stale socket file " + file + " cannot be removed: " + io, io);
        }
    }
}

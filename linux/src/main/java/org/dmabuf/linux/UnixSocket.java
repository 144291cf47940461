package org.dmabuf.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An owned {@code AF_UNIX}, {@code SOCK_SEQPACKET} socket: one message per {@code sendmsg}, fds passed with
 * {@code SCM_RIGHTS}, received with {@code MSG_CMSG_CLOEXEC}. A truncated message or control message is an error,
 * and every fd that arrived with a refused message is closed, never leaked.
 *
 * <p>A connected socket has {@code SO_PASSCRED} set, so that every message received carries an
 * {@code SCM_CREDENTIALS} control message: a message of 0 bytes (which a peer may send) has one, the end of the
 * stream (where {@code recvmsg} also returns 0) has none. A peer that closes with messages of ours unread makes the
 * kernel report {@code ECONNRESET} once; its messages still queued are delivered after it, then the end of stream.
 *
 * <p>Thread-safe: one thread at a time sends and one at a time receives (each direction has its own lock and
 * buffers); {@link #close()} from any thread.
 */
public final class UnixSocket implements AutoCloseable {
    private static final int BUFFER = 4096;
    private static final int MAX_FDS = 16;

    private static final long POLL_SLICE_MS = 100;
    private static final NativeLong ONE = new NativeLong(1);

    private final Fd fd;
    private final String what;
    /** What a received fd is, for its errors: made once, not per fd. */
    private final String receivedWhat;
    private volatile boolean closing;
    private final ReentrantLock sendLock = new ReentrantLock();
    private final ReentrantLock recvLock = new ReentrantLock();
    /** The send direction's msghdr, iovec, pollfd, control and data, made at the first send; under sendLock. */
    private Block sendBlock;
    /** The receive direction's, made at the first receive or accept; under recvLock. */
    private Block recvBlock;

    private UnixSocket(int fd, String what) {
        this.fd = new Fd(fd, what);
        this.what = what;
        this.receivedWhat = "fd received on " + what;
    }

    /**
     * A message that arrived: its bytes and the fds that came with it, owned by the caller.
     *
     * @param data the bytes
     * @param fds the fds, each owned by the caller
     */
    public record Message(byte[] data, List<Fd> fds) implements AutoCloseable {
        /** Closes every fd that came with the message. */
        @Override
        public void close() {
            for (Fd f : fds) {
                f.close();
            }
        }
    }

    private static SocketLibC.SockaddrUn address(Path path, String call) {
        byte[] p = path.toString().getBytes(StandardCharsets.UTF_8);
        SocketLibC.SockaddrUn a = new SocketLibC.SockaddrUn();
        if (p.length >= a.sun_path.length) {
            throw new LinuxException(call, path + " (" + p.length + " bytes; sun_path holds 107)",
                    Errno.ENAMETOOLONG);
        }
        a.sun_family = SocketLibC.AF_UNIX;
        System.arraycopy(p, 0, a.sun_path, 0, p.length);
        return a;
    }

    private static int newSocket(String what, int flags) {
        try {
            return SocketLibC.socket(SocketLibC.AF_UNIX, SocketLibC.SOCK_SEQPACKET | SocketLibC.SOCK_CLOEXEC | flags,
                    0);
        } catch (LastErrorException e) {
            throw new LinuxException("socket(AF_UNIX, SOCK_SEQPACKET)", what, e.getErrorCode());
        }
    }

    /** Sets {@code SO_PASSCRED} on a connected socket; closes it if that fails. */
    private UnixSocket passCredentials() {
        try {
            SocketLibC.setsockopt(fd.get(), SocketLibC.SOL_SOCKET, SocketLibC.SO_PASSCRED, new int[] {1}, 4);
            return this;
        } catch (LastErrorException e) {
            close();
            throw new LinuxException("setsockopt(SO_PASSCRED)", what, e.getErrorCode());
        }
    }

    /**
     * Tries to connect without waiting, to learn whether somebody listens on a socket file, and disconnects.
     *
     * @param path the socket file
     * @return 0 if a listener accepted the connection into its backlog; otherwise the errno of {@code connect}:
     *         {@code ECONNREFUSED} when nobody listens (a stale file), {@code EAGAIN} when a listener's backlog is
     *         full, {@code EACCES}, {@code ENOENT}...
     * @throws LinuxException naming {@code socket} or the path if it is too long
     */
    public static int probe(Path path) {
        SocketLibC.SockaddrUn a = address(path, "connect");
        try (UnixSocket s = new UnixSocket(newSocket(path.toString(), SocketLibC.SOCK_NONBLOCK), path.toString())) {
            SocketLibC.connect(s.fd.get(), a, a.size());
            return 0;
        } catch (LastErrorException e) {
            return e.getErrorCode();
        }
    }

    /**
     * Connects to a listening socket.
     *
     * @param path the socket file
     * @return the connected socket, owned by the caller
     * @throws LinuxException naming {@code connect}, the path and errno ({@code ENOENT}, {@code ECONNREFUSED},
     *         {@code EACCES})
     */
    public static UnixSocket connect(Path path) {
        SocketLibC.SockaddrUn a = address(path, "connect");
        UnixSocket s = new UnixSocket(newSocket(path.toString(), 0), path.toString());
        try {
            SocketLibC.connect(s.fd.get(), a, a.size());
        } catch (LastErrorException e) {
            s.close();
            throw new LinuxException("connect", path.toString(), e.getErrorCode());
        }
        return s.passCredentials();
    }

    /**
     * Binds and listens.
     *
     * @param path the socket file to create; its folder must exist
     * @param mode the socket file's mode, set right after bind (0600)
     * @return the listening socket, owned by the caller
     * @throws LinuxException naming {@code bind}, the path and errno ({@code EADDRINUSE} if the file exists)
     */
    public static UnixSocket listen(Path path, int mode) {
        return listen(path, mode, -1);
    }

    /**
     * Binds and listens, giving the socket file a group.
     *
     * @param path the socket file to create; its folder must exist
     * @param mode the socket file's mode, set right after bind (0600, or 0660 with a group)
     * @param gid the socket file's group, set right after bind; -1 keeps the process's
     * @return the listening socket, owned by the caller
     * @throws LinuxException naming {@code bind}, {@code chown} or {@code chmod}, the path and errno
     *         ({@code EADDRINUSE} if the file exists, {@code EPERM} for a group this process may not give); the
     *         socket file is removed again if {@code chown} or {@code chmod} fails
     */
    public static UnixSocket listen(Path path, int mode, int gid) {
        SocketLibC.SockaddrUn a = address(path, "bind");
        UnixSocket s = new UnixSocket(newSocket(path.toString(), 0), "listening on " + path);
        String call = "bind";
        try {
            SocketLibC.bind(s.fd.get(), a, a.size());
            try {
                call = "chown";
                if (gid != -1) {
                    SocketLibC.chown(path.toString(), -1, gid);
                }
                call = "chmod";
                SocketLibC.chmod(path.toString(), mode);
            } catch (LastErrorException e) {
                try {
                    java.nio.file.Files.deleteIfExists(path);
                } catch (java.io.IOException io) {
                    e.addSuppressed(io);
                }
                throw e;
            }
            call = "listen";
            SocketLibC.listen(s.fd.get(), 16);
            return s;
        } catch (LastErrorException e) {
            s.close();
            throw new LinuxException(call, path.toString(), e.getErrorCode());
        }
    }

    /**
     * A connected pair ({@code socketpair}), for tests and for handing one end to a child.
     *
     * @return two connected sockets, owned by the caller
     * @throws LinuxException naming {@code socketpair} and errno
     */
    public static UnixSocket[] pair() {
        int[] sv = new int[2];
        try {
            SocketLibC.socketpair(SocketLibC.AF_UNIX, SocketLibC.SOCK_SEQPACKET | SocketLibC.SOCK_CLOEXEC, 0, sv);
        } catch (LastErrorException e) {
            throw new LinuxException("socketpair(AF_UNIX, SOCK_SEQPACKET)", "new pair", e.getErrorCode());
        }
        UnixSocket a = new UnixSocket(sv[0], "socketpair end 0");
        UnixSocket b = new UnixSocket(sv[1], "socketpair end 1");
        try {
            a.passCredentials();
        } catch (LinuxException e) {
            b.close();
            throw e;
        }
        return new UnixSocket[] {a, b.passCredentials()};
    }

    /**
     * Waits until the socket is readable (a message, a connection to accept, or the peer's close).
     *
     * @param timeout how long; null waits forever
     * @return false if the time ran out
     * @throws LinuxException naming {@code poll}, the socket and errno
     */
    public boolean awaitReadable(Duration timeout) {
        return await(SocketLibC.POLLIN, timeout, "poll");
    }

    private boolean await(short events, Duration timeout, String call) {
        long deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
        if (closing) {
            throw new LinuxException(call, what + ": the socket was closed", Errno.EPIPE);
        }
        Block b = events == SocketLibC.POLLOUT ? sendBlock : recvBlock();
        b.memory.setInt(Block.POLLFD, fd.get());
        b.memory.setShort(Block.POLLFD + 4, events);
        while (true) {
            if (closing) {
                throw new LinuxException(call, what + ": the socket was closed", Errno.EPIPE);
            }
            long left = deadline == Long.MAX_VALUE ? POLL_SLICE_MS : (deadline - System.nanoTime()) / 1_000_000;
            // a time already out still looks once: a zero timeout, or a thread descheduled before it polled, must
            // find what is there already
            boolean last = left <= 0;
            try {
                // in slices, so that close() from another thread is seen even on a listening socket
                b.memory.setShort(Block.POLLFD + 6, (short) 0);
                if (SocketLibC.poll(b.pollfd, ONE, (int) Math.max(0, Math.min(left, POLL_SLICE_MS))) > 0) {
                    return true;
                }
                if (last) {
                    return false;
                }
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Errno.EINTR) {
                    throw new LinuxException("poll", what, e.getErrorCode());
                }
                Sys.RETRIED.increment();
            } finally {
                java.lang.ref.Reference.reachabilityFence(b);
            }
        }
    }

    /** The receive direction's block, made at first use; under recvLock. */
    private Block recvBlock() {
        if (recvBlock == null) {
            recvBlock = new Block(BUFFER + 1, SocketLibC.cmsgSpace(4 * MAX_FDS)
                    + SocketLibC.cmsgSpace(SocketLibC.UCRED_SIZE));
        }
        return recvBlock;
    }

    /**
     * One direction's native memory, made once and reused by every message: a {@code struct msghdr} pointing at a
     * {@code struct iovec} over the data and at the control buffer, and a {@code struct pollfd}. Owned by the socket
     * and freed by {@link #close()}; used under that direction's lock only.
     */
    private static final class Block {
        static final int MSG_IOV = SocketLibC.Msghdr.offset("msg_iov");
        static final int MSG_IOVLEN = SocketLibC.Msghdr.offset("msg_iovlen");
        static final int MSG_CONTROL = SocketLibC.Msghdr.offset("msg_control");
        static final int MSG_CONTROLLEN = SocketLibC.Msghdr.offset("msg_controllen");
        static final int MSG_FLAGS = SocketLibC.Msghdr.offset("msg_flags");
        static final int IOV = SocketLibC.align(new SocketLibC.Msghdr().size());
        static final int IOV_LEN = SocketLibC.Iovec.offset("iov_len");
        static final int POLLFD = IOV + SocketLibC.align(new SocketLibC.Iovec().size());
        static final int CONTROL = POLLFD + SocketLibC.align(new SocketLibC.Pollfd().size());

        final Memory memory;
        final Pointer msghdr;
        final Pointer pollfd;
        final Pointer control;
        final int controlSize;
        final Pointer data;

        Block(int dataSize, int controlSize) {
            this.controlSize = controlSize;
            memory = new Memory(CONTROL + SocketLibC.align(controlSize) + dataSize);
            memory.clear();
            msghdr = memory.share(0);
            pollfd = memory.share(POLLFD);
            control = memory.share(CONTROL);
            data = memory.share(CONTROL + SocketLibC.align(controlSize));
            Pointer iov = memory.share(IOV);
            memory.setPointer(MSG_IOV, iov);
            writeSizeT(memory, MSG_IOVLEN, 1);
            memory.setPointer(IOV, data);
        }

        void iovLength(long length) {
            writeSizeT(memory, IOV + IOV_LEN, length);
        }

        void control(Pointer control, long length) {
            memory.setPointer(MSG_CONTROL, control);
            writeSizeT(memory, MSG_CONTROLLEN, length);
        }
    }

    /**
     * Accepts one connection.
     *
     * @param timeout how long to wait; null waits forever
     * @return the connection, owned by the caller, or null if the time ran out
     * @throws LinuxException naming {@code accept4}, the socket and errno
     */
    public UnixSocket accept(Duration timeout) {
        recvLock.lock();
        try {
            if (!awaitReadable(timeout)) {
                return null;
            }
            return new UnixSocket(SocketLibC.accept4(fd.get(), null, null, SocketLibC.SOCK_CLOEXEC),
                    "connection accepted on " + what).passCredentials();
        } catch (LastErrorException e) {
            throw new LinuxException("accept4", what, e.getErrorCode());
        } finally {
            recvLock.unlock();
        }
    }

    /**
     * The peer's process, user and group ({@code SO_PEERCRED}), as the kernel recorded them at connect.
     *
     * @return {pid, uid, gid}
     * @throws LinuxException naming {@code getsockopt(SO_PEERCRED)} and errno
     */
    public int[] peerCredentials() {
        SocketLibC.Ucred u = new SocketLibC.Ucred();
        int[] len = {u.size()};
        try {
            SocketLibC.getsockopt(fd.get(), SocketLibC.SOL_SOCKET, SocketLibC.SO_PEERCRED, u, len);
        } catch (LastErrorException e) {
            throw new LinuxException("getsockopt(SO_PEERCRED)", what, e.getErrorCode());
        }
        return new int[] {u.pid, u.uid, u.gid};
    }

    /**
     * Sends one message with fds attached ({@code SCM_RIGHTS}); the fds stay owned by the caller.
     *
     * @param data the bytes, at most 4096
     * @param fds the fds to pass, at most 16; may be empty
     * @throws LinuxException naming {@code sendmsg}, the socket and errno ({@code EPIPE} when the peer is gone)
     */
    public void send(byte[] data, int... fds) {
        send(data, null, fds);
    }

    /**
     * Sends one message with fds attached ({@code SCM_RIGHTS}), waiting at most {@code timeout} for room in the
     * socket's send buffer (the peer not reading fills it). A {@code SOCK_SEQPACKET} message is queued whole or not
     * at all: when the time runs out nothing was sent and the fds stay the caller's only.
     *
     * @param data the bytes, at most 4096
     * @param timeout how long to wait for room; null waits forever
     * @param fds the fds to pass, at most 16; may be empty
     * @throws LinuxException {@code EAGAIN} naming {@code sendmsg} and the socket when the time ran out;
     *         {@code EPIPE} when the peer is gone; naming {@code sendmsg} and errno otherwise
     */
    public void send(byte[] data, Duration timeout, int... fds) {
        if (data.length > BUFFER || fds.length > MAX_FDS) {
            throw new LinuxException("sendmsg", what + ": " + data.length + " bytes, " + fds.length + " fds",
                    Errno.EMSGSIZE);
        }
        sendLock.lock();
        try {
            if (closing) {
                throw new LinuxException("sendmsg", what + ": the socket was closed", Errno.EPIPE);
            }
            Block b = sendBlock;
            if (b == null) {
                b = sendBlock = new Block(BUFFER, SocketLibC.cmsgSpace(4 * MAX_FDS));
            }
            b.data.write(0, data, 0, data.length);
            b.iovLength(data.length);
            if (fds.length > 0) {
                int space = SocketLibC.cmsgSpace(4 * fds.length);
                b.control.clear(space);
                writeSizeT(b.control, 0, SocketLibC.cmsgLen(4 * fds.length));
                b.control.setInt(Native.SIZE_T_SIZE, SocketLibC.SOL_SOCKET);
                b.control.setInt(Native.SIZE_T_SIZE + 4, SocketLibC.SCM_RIGHTS);
                for (int i = 0; i < fds.length; i++) {
                    b.control.setInt(SocketLibC.CMSG_HDR + 4L * i, fds[i]);
                }
                b.control(b.control, space);
            } else {
                b.control(null, 0);
            }
            long deadline = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
            int flags = SocketLibC.MSG_NOSIGNAL | (timeout == null ? 0 : SocketLibC.MSG_DONTWAIT);
            while (true) {
                if (closing) {
                    throw new LinuxException("sendmsg", what + ": the socket was closed", Errno.EPIPE);
                }
                try {
                    SocketLibC.sendmsg(fd.get(), b.msghdr, flags);
                    return;
                } catch (LastErrorException e) {
                    int err = e.getErrorCode();
                    if (err == Errno.EAGAIN && timeout != null) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0 || !await(SocketLibC.POLLOUT, Duration.ofNanos(left), "sendmsg")) {
                            throw new LinuxException("sendmsg", what + ": the peer did not read within " + timeout
                                    + "; nothing was sent", Errno.EAGAIN);
                        }
                    } else if (err != Errno.EINTR) {
                        throw new LinuxException("sendmsg", what, err);
                    } else {
                        Sys.RETRIED.increment();
                    }
                }
            }
        } finally {
            java.lang.ref.Reference.reachabilityFence(sendBlock);
            sendLock.unlock();
        }
    }

    /**
     * Receives one message. A message longer than {@code maxBytes}, or control data that did not fit (more than
     * 16 fds), is refused with every fd that came closed.
     *
     * @param maxBytes the longest message accepted, at most 4096
     * @param timeout how long to wait; null waits forever
     * @return the message, or null if the time ran out
     * @throws LinuxException {@code EPIPE} naming the socket when the peer closed the connection (after every
     *         message it sent) or this socket was closed; {@code EMSGSIZE} for a message or control data too long;
     *         naming {@code recvmsg} and errno otherwise
     */
    public Message receive(int maxBytes, Duration timeout) {
        recvLock.lock();
        try {
            if (closing) {
                throw new LinuxException("recvmsg", what + ": the socket was closed", Errno.EPIPE);
            }
            // without a timeout, recvmsg itself waits: close() shuts the connection down, which wakes it
            if (timeout != null && !awaitReadable(timeout)) {
                return null;
            }
            Block b = recvBlock();
            int limit = Math.min(maxBytes, BUFFER);
            b.iovLength(limit + 1);
            long n;
            while (true) {
                b.control(b.control, b.controlSize);
                b.memory.setInt(Block.MSG_FLAGS, 0);
                try {
                    n = SocketLibC.recvmsg(fd.get(), b.msghdr, SocketLibC.MSG_CMSG_CLOEXEC);
                    break;
                } catch (LastErrorException e) {
                    if (e.getErrorCode() == SocketLibC.ECONNRESET) {
                        // the peer closed with messages of ours unread: the kernel says so once, before the
                        // messages it had sent, which are still queued; read on to them, then to the end of stream
                        continue;
                    }
                    if (e.getErrorCode() != Errno.EINTR) {
                        throw new LinuxException("recvmsg", what, e.getErrorCode());
                    }
                    Sys.RETRIED.increment();
                }
            }
            int msgFlags = b.memory.getInt(Block.MSG_FLAGS);
            boolean[] credentials = new boolean[1];
            List<Fd> fds = takeFds(b.control, readSizeT(b.memory, Block.MSG_CONTROLLEN), credentials);
            if ((msgFlags & SocketLibC.MSG_CTRUNC) != 0) {
                fds.forEach(Fd::close);
                throw new LinuxException("recvmsg", what + ": control data truncated (more than " + MAX_FDS
                        + " fds); the fds that came were closed", Errno.EMSGSIZE);
            }
            if (n > limit || (msgFlags & SocketLibC.MSG_TRUNC) != 0) {
                fds.forEach(Fd::close);
                throw new LinuxException("recvmsg", what + ": message longer than " + limit
                        + " bytes; refused and its fds closed", Errno.EMSGSIZE);
            }
            if (n == 0 && fds.isEmpty() && !credentials[0]) {
                // no message at all (every message has SCM_CREDENTIALS): the end of the stream
                throw new LinuxException("recvmsg", what + (closing ? ": the socket was closed"
                        : ": the peer closed the connection"), Errno.EPIPE);
            }
            return new Message(b.data.getByteArray(0, (int) n), fds);
        } finally {
            java.lang.ref.Reference.reachabilityFence(recvBlock);
            recvLock.unlock();
        }
    }

    private List<Fd> takeFds(Pointer control, long controlLen, boolean[] credentials) {
        List<Fd> fds = new ArrayList<>();
        long off = 0;
        while (off + SocketLibC.CMSG_HDR <= controlLen) {
            long len = readSizeT(control, off);
            int level = control.getInt(off + Native.SIZE_T_SIZE);
            int type = control.getInt(off + Native.SIZE_T_SIZE + 4);
            if (len < SocketLibC.CMSG_HDR || off + len > controlLen) {
                break;
            }
            if (level == SocketLibC.SOL_SOCKET && type == SocketLibC.SCM_CREDENTIALS) {
                credentials[0] = true;
            }
            if (level == SocketLibC.SOL_SOCKET && type == SocketLibC.SCM_RIGHTS) {
                int count = (int) ((len - SocketLibC.CMSG_HDR) / 4);
                for (int i = 0; i < count; i++) {
                    fds.add(new Fd(control.getInt(off + SocketLibC.CMSG_HDR + 4L * i), receivedWhat));
                }
            }
            off += SocketLibC.align((int) len);
        }
        return fds;
    }

    private static void writeSizeT(Pointer p, long off, long v) {
        if (Native.SIZE_T_SIZE == 8) {
            p.setLong(off, v);
        } else {
            p.setInt(off, (int) v);
        }
    }

    private static long readSizeT(Pointer p, long off) {
        return Native.SIZE_T_SIZE == 8 ? p.getLong(off) : p.getInt(off) & 0xffffffffL;
    }

    /**
     * The socket's fd, for poll loops and tests.
     *
     * @return the fd
     */
    public int fd() {
        return fd.get();
    }

    /**
     * Shuts the connection down both ways, which wakes a thread blocked in {@link #receive} or {@link #accept},
     * waits for it to leave, and closes the fd: a number in use is never closed under another thread.
     */
    @Override
    public void close() {
        closing = true;
        if (fd.isOpen()) {
            try {
                SocketLibC.shutdown(fd.get(), SocketLibC.SHUT_RDWR);
            } catch (LastErrorException | LinuxException e) {
                // not connected (a listening socket) or already closed: nothing to shut down
            }
        }
        recvLock.lock();
        sendLock.lock();
        try {
            fd.close();
            if (sendBlock != null) {
                sendBlock.memory.close();
                sendBlock = null;
            }
            if (recvBlock != null) {
                recvBlock.memory.close();
                recvBlock = null;
            }
        } finally {
            sendLock.unlock();
            recvLock.unlock();
        }
    }

    @Override
    public String toString() {
        return "UnixSocket[" + what + "]";
    }
}

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
 * <p>Thread-safe: one thread at a time sends and one at a time receives (each direction has its own lock and
 * buffers); {@link #close()} from any thread.
 */
public final class UnixSocket implements AutoCloseable {
    private static final int BUFFER = 4096;
    private static final int MAX_FDS = 16;

    private static final long POLL_SLICE_MS = 100;

    private final Fd fd;
    private final String what;
    private volatile boolean closing;
    private final ReentrantLock sendLock = new ReentrantLock();
    private final ReentrantLock recvLock = new ReentrantLock();
    private Memory sendData;
    private Memory sendControl;
    private Memory recvData;
    private Memory recvControl;

    private UnixSocket(int fd, String what) {
        this.fd = new Fd(fd, what);
        this.what = what;
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

    private static int newSocket(String what) {
        try {
            return SocketLibC.socket(SocketLibC.AF_UNIX, SocketLibC.SOCK_SEQPACKET | SocketLibC.SOCK_CLOEXEC, 0);
        } catch (LastErrorException e) {
            throw new LinuxException("socket(AF_UNIX, SOCK_SEQPACKET)", what, e.getErrorCode());
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
        UnixSocket s = new UnixSocket(newSocket(path.toString()), path.toString());
        try {
            SocketLibC.connect(s.fd.get(), a, a.size());
            return s;
        } catch (LastErrorException e) {
            s.close();
            throw new LinuxException("connect", path.toString(), e.getErrorCode());
        }
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
        SocketLibC.SockaddrUn a = address(path, "bind");
        UnixSocket s = new UnixSocket(newSocket(path.toString()), "listening on " + path);
        String call = "bind";
        try {
            SocketLibC.bind(s.fd.get(), a, a.size());
            call = "chmod";
            SocketLibC.chmod(path.toString(), mode);
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
        return new UnixSocket[] {new UnixSocket(sv[0], "socketpair end 0"), new UnixSocket(sv[1],
                "socketpair end 1")};
    }

    /**
     * Waits until the socket is readable (a message, a connection to accept, or the peer's close).
     *
     * @param timeout how long; null waits forever
     * @return false if the time ran out
     * @throws LinuxException naming {@code poll}, the socket and errno
     */
    public boolean awaitReadable(Duration timeout) {
        long deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
        SocketLibC.Pollfd p = new SocketLibC.Pollfd();
        p.fd = fd.get();
        p.events = SocketLibC.POLLIN;
        while (true) {
            if (closing) {
                throw new LinuxException("poll", what + ": the socket is being closed", Errno.EBADF);
            }
            long left = deadline == Long.MAX_VALUE ? POLL_SLICE_MS : (deadline - System.nanoTime()) / 1_000_000;
            if (left < 0) {
                return false;
            }
            try {
                // in slices, so that close() from another thread is seen even on a listening socket
                if (SocketLibC.poll(p, new NativeLong(1), (int) Math.min(left, POLL_SLICE_MS)) > 0) {
                    return true;
                }
            } catch (LastErrorException e) {
                if (e.getErrorCode() != Errno.EINTR) {
                    throw new LinuxException("poll", what, e.getErrorCode());
                }
            }
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
                    "connection accepted on " + what);
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
        if (data.length > BUFFER || fds.length > MAX_FDS) {
            throw new LinuxException("sendmsg", what + ": " + data.length + " bytes, " + fds.length + " fds",
                    Errno.EMSGSIZE);
        }
        sendLock.lock();
        try {
            if (sendData == null) {
                sendData = new Memory(BUFFER);
                sendControl = new Memory(SocketLibC.cmsgSpace(4 * MAX_FDS));
            }
            sendData.write(0, data, 0, data.length);
            SocketLibC.Iovec iov = new SocketLibC.Iovec();
            iov.iov_base = sendData;
            iov.iov_len = new SizeT(data.length);
            iov.write();
            SocketLibC.Msghdr msg = new SocketLibC.Msghdr();
            msg.msg_iov = iov.getPointer();
            msg.msg_iovlen = new SizeT(1);
            if (fds.length > 0) {
                int space = SocketLibC.cmsgSpace(4 * fds.length);
                sendControl.clear(space);
                writeSizeT(sendControl, 0, SocketLibC.cmsgLen(4 * fds.length));
                sendControl.setInt(Native.SIZE_T_SIZE, SocketLibC.SOL_SOCKET);
                sendControl.setInt(Native.SIZE_T_SIZE + 4, SocketLibC.SCM_RIGHTS);
                for (int i = 0; i < fds.length; i++) {
                    sendControl.setInt(SocketLibC.CMSG_HDR + 4L * i, fds[i]);
                }
                msg.msg_control = sendControl;
                msg.msg_controllen = new SizeT(space);
            }
            while (true) {
                try {
                    SocketLibC.sendmsg(fd.get(), msg, SocketLibC.MSG_NOSIGNAL);
                    return;
                } catch (LastErrorException e) {
                    if (e.getErrorCode() != Errno.EINTR) {
                        throw new LinuxException("sendmsg", what, e.getErrorCode());
                    }
                }
            }
        } finally {
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
     * @throws LinuxException {@code EPIPE} naming the socket when the peer closed the connection;
     *         {@code EMSGSIZE} for a message or control data too long; naming {@code recvmsg} and errno otherwise
     */
    public Message receive(int maxBytes, Duration timeout) {
        recvLock.lock();
        try {
            if (!awaitReadable(timeout)) {
                return null;
            }
            if (recvData == null) {
                recvData = new Memory(BUFFER + 1);
                recvControl = new Memory(SocketLibC.cmsgSpace(4 * MAX_FDS));
            }
            int limit = Math.min(maxBytes, BUFFER);
            SocketLibC.Iovec iov = new SocketLibC.Iovec();
            iov.iov_base = recvData;
            iov.iov_len = new SizeT(limit + 1);
            iov.write();
            SocketLibC.Msghdr msg = new SocketLibC.Msghdr();
            msg.msg_iov = iov.getPointer();
            msg.msg_iovlen = new SizeT(1);
            recvControl.clear(recvControl.size());
            msg.msg_control = recvControl;
            msg.msg_controllen = new SizeT(recvControl.size());
            long n;
            while (true) {
                try {
                    n = SocketLibC.recvmsg(fd.get(), msg, SocketLibC.MSG_CMSG_CLOEXEC);
                    break;
                } catch (LastErrorException e) {
                    if (e.getErrorCode() != Errno.EINTR) {
                        throw new LinuxException("recvmsg", what, e.getErrorCode());
                    }
                }
            }
            List<Fd> fds = takeFds(recvControl, msg.msg_controllen.longValue());
            if ((msg.msg_flags & SocketLibC.MSG_CTRUNC) != 0) {
                fds.forEach(Fd::close);
                throw new LinuxException("recvmsg", what + ": control data truncated (more than " + MAX_FDS
                        + " fds); the fds that came were closed", Errno.EMSGSIZE);
            }
            if (n > limit || (msg.msg_flags & SocketLibC.MSG_TRUNC) != 0) {
                fds.forEach(Fd::close);
                throw new LinuxException("recvmsg", what + ": message longer than " + limit
                        + " bytes; refused and its fds closed", Errno.EMSGSIZE);
            }
            if (n == 0 && fds.isEmpty()) {
                throw new LinuxException("recvmsg", what + ": the peer closed the connection", Errno.EPIPE);
            }
            return new Message(recvData.getByteArray(0, (int) n), fds);
        } finally {
            recvLock.unlock();
        }
    }

    private List<Fd> takeFds(Pointer control, long controlLen) {
        List<Fd> fds = new ArrayList<>();
        long off = 0;
        while (off + SocketLibC.CMSG_HDR <= controlLen) {
            long len = readSizeT(control, off);
            int level = control.getInt(off + Native.SIZE_T_SIZE);
            int type = control.getInt(off + Native.SIZE_T_SIZE + 4);
            if (len < SocketLibC.CMSG_HDR || off + len > controlLen) {
                break;
            }
            if (level == SocketLibC.SOL_SOCKET && type == SocketLibC.SCM_RIGHTS) {
                int count = (int) ((len - SocketLibC.CMSG_HDR) / 4);
                for (int i = 0; i < count; i++) {
                    fds.add(new Fd(control.getInt(off + SocketLibC.CMSG_HDR + 4L * i), "fd received on " + what));
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

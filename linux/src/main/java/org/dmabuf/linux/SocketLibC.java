package org.dmabuf.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.Structure.FieldOrder;

/**
 * The C library's Unix-domain socket calls, bound with JNA direct mapping, and their structs. Stateless; any
 * thread. Prefer {@link UnixSocket}, which owns the fds and checks every call.
 */
public final class SocketLibC {
    static {
        Native.register(SocketLibC.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private SocketLibC() {
    }

    /** {@code AF_UNIX}. */
    public static final int AF_UNIX = 1;
    /** {@code SOCK_SEQPACKET}: connection-oriented, message boundaries kept. */
    public static final int SOCK_SEQPACKET = 5;
    /** {@code SOCK_CLOEXEC}. */
    public static final int SOCK_CLOEXEC = 0x80000;
    /** {@code SOCK_NONBLOCK}. */
    public static final int SOCK_NONBLOCK = 0x800;
    /** {@code SOL_SOCKET}. */
    public static final int SOL_SOCKET = 1;
    /** {@code SO_PEERCRED}. */
    public static final int SO_PEERCRED = 17;
    /**
     * {@code SO_PASSCRED}: every message received comes with an {@code SCM_CREDENTIALS} control message, which
     * tells a message of 0 bytes from the end of the stream.
     */
    public static final int SO_PASSCRED = 16;
    /** {@code SCM_RIGHTS}. */
    public static final int SCM_RIGHTS = 1;
    /** {@code SCM_CREDENTIALS}: a {@code struct ucred} (12 bytes). */
    public static final int SCM_CREDENTIALS = 2;
    /** {@code sizeof(struct ucred)}. */
    public static final int UCRED_SIZE = 12;
    /** {@code MSG_TRUNC}: the message was longer than the buffer. */
    public static final int MSG_TRUNC = 0x20;
    /** {@code MSG_CTRUNC}: control data was lost for lack of space (fds were dropped). */
    public static final int MSG_CTRUNC = 0x8;
    /** {@code MSG_DONTWAIT}: fail with {@code EAGAIN} instead of blocking. */
    public static final int MSG_DONTWAIT = 0x40;
    /** {@code MSG_NOSIGNAL}: no SIGPIPE on a closed peer. */
    public static final int MSG_NOSIGNAL = 0x4000;
    /** {@code MSG_CMSG_CLOEXEC}: received fds get {@code O_CLOEXEC}. */
    public static final int MSG_CMSG_CLOEXEC = 0x40000000;
    /** {@code POLLIN}. */
    public static final short POLLIN = 0x1;
    /** {@code POLLOUT}. */
    public static final short POLLOUT = 0x4;
    /** {@code ECONNREFUSED}: nobody listens on the socket file. */
    public static final int ECONNREFUSED = 111;
    /** {@code ECONNRESET}: the peer closed with messages of ours unread. */
    public static final int ECONNRESET = 104;
    /** {@code SHUT_RDWR}. */
    public static final int SHUT_RDWR = 2;

    /**
     * {@code struct sockaddr_un { sa_family_t sun_family; char sun_path[108]; }}.
     */
    @FieldOrder({"sun_family", "sun_path"})
    public static class SockaddrUn extends Structure {
        /** {@code sa_family_t sun_family}: {@link #AF_UNIX}. */
        public short sun_family;
        /** {@code char sun_path[108]}: NUL-terminated. */
        public byte[] sun_path = new byte[108];
    }

    /**
     * {@code struct ucred { pid_t pid; uid_t uid; gid_t gid; }}.
     */
    @FieldOrder({"pid", "uid", "gid"})
    public static class Ucred extends Structure {
        /** {@code pid_t pid}. */
        public int pid;
        /** {@code uid_t uid}. */
        public int uid;
        /** {@code gid_t gid}. */
        public int gid;
    }

    /**
     * {@code struct iovec { void *iov_base; size_t iov_len; }}.
     */
    @FieldOrder({"iov_base", "iov_len"})
    public static class Iovec extends Structure {
        /** {@code void *iov_base}. */
        public Pointer iov_base;
        /** {@code size_t iov_len}. */
        public SizeT iov_len = new SizeT();

        /**
         * A field's offset in the native struct, for code that writes the struct into memory of its own.
         *
         * @param field the field's name
         * @return its offset
         */
        public static int offset(String field) {
            return new Iovec().fieldOffset(field);
        }
    }

    /**
     * {@code struct msghdr { void *msg_name; socklen_t msg_namelen; struct iovec *msg_iov; size_t msg_iovlen;
     * void *msg_control; size_t msg_controllen; int msg_flags; }}.
     */
    @FieldOrder({"msg_name", "msg_namelen", "msg_iov", "msg_iovlen", "msg_control", "msg_controllen", "msg_flags"})
    public static class Msghdr extends Structure {
        /** {@code void *msg_name}. */
        public Pointer msg_name;
        /** {@code socklen_t msg_namelen}. */
        public int msg_namelen;
        /** {@code struct iovec *msg_iov}. */
        public Pointer msg_iov;
        /** {@code size_t msg_iovlen}. */
        public SizeT msg_iovlen = new SizeT();
        /** {@code void *msg_control}. */
        public Pointer msg_control;
        /** {@code size_t msg_controllen}. */
        public SizeT msg_controllen = new SizeT();
        /** {@code int msg_flags}. */
        public int msg_flags;

        /**
         * A field's offset in the native struct, for code that writes the struct into memory of its own.
         *
         * @param field the field's name
         * @return its offset
         */
        public static int offset(String field) {
            return new Msghdr().fieldOffset(field);
        }
    }

    /**
     * {@code struct pollfd { int fd; short events; short revents; }}.
     */
    @FieldOrder({"fd", "events", "revents"})
    public static class Pollfd extends Structure {
        /** {@code int fd}. */
        public int fd;
        /** {@code short events}. */
        public short events;
        /** {@code short revents}. */
        public short revents;
    }

    /** {@code sizeof(struct cmsghdr)} rounded as {@code CMSG_ALIGN}: the offset of {@code CMSG_DATA}. */
    public static final int CMSG_HDR = align(Native.SIZE_T_SIZE + 8);

    /**
     * {@code CMSG_ALIGN(len)}: rounded up to {@code sizeof(size_t)}.
     *
     * @param len bytes
     * @return the aligned length
     */
    public static int align(int len) {
        int a = Native.SIZE_T_SIZE;
        return (len + a - 1) & -a;
    }

    /**
     * {@code CMSG_LEN(len)}.
     *
     * @param len data bytes
     * @return the {@code cmsg_len} value
     */
    public static int cmsgLen(int len) {
        return CMSG_HDR + len;
    }

    /**
     * {@code CMSG_SPACE(len)}.
     *
     * @param len data bytes
     * @return the bytes a control message with that much data takes
     */
    public static int cmsgSpace(int len) {
        return CMSG_HDR + align(len);
    }

    /**
     * {@code int socket(int domain, int type, int protocol)}.
     *
     * @param domain {@link #AF_UNIX}
     * @param type {@link #SOCK_SEQPACKET} | {@link #SOCK_CLOEXEC}
     * @param protocol 0
     * @return the fd
     * @throws LastErrorException with errno
     */
    public static native int socket(int domain, int type, int protocol) throws LastErrorException;

    /**
     * {@code int socketpair(int domain, int type, int protocol, int sv[2])}.
     *
     * @param domain {@link #AF_UNIX}
     * @param type the type
     * @param protocol 0
     * @param sv out: the two fds
     * @return 0
     * @throws LastErrorException with errno
     */
    public static native int socketpair(int domain, int type, int protocol, int[] sv) throws LastErrorException;

    /**
     * {@code int bind(int fd, const struct sockaddr *addr, socklen_t len)}.
     *
     * @param fd the socket
     * @param addr the address
     * @param len its length
     * @return 0
     * @throws LastErrorException with errno
     */
    public static native int bind(int fd, SockaddrUn addr, int len) throws LastErrorException;

    /**
     * {@code int connect(int fd, const struct sockaddr *addr, socklen_t len)}.
     *
     * @param fd the socket
     * @param addr the address
     * @param len its length
     * @return 0
     * @throws LastErrorException with errno
     */
    public static native int connect(int fd, SockaddrUn addr, int len) throws LastErrorException;

    /**
     * {@code int listen(int fd, int backlog)}.
     *
     * @param fd the socket
     * @param backlog the backlog
     * @return 0
     * @throws LastErrorException with errno
     */
    public static native int listen(int fd, int backlog) throws LastErrorException;

    /**
     * {@code int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)}.
     *
     * @param fd the listening socket
     * @param addr null
     * @param len null
     * @param flags {@link #SOCK_CLOEXEC}
     * @return the connection's fd
     * @throws LastErrorException with errno
     */
    public static native int accept4(int fd, Pointer addr, Pointer len, int flags) throws LastErrorException;

    /**
     * {@code ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)}.
     *
     * @param fd the socket
     * @param msg the message
     * @param flags {@link #MSG_NOSIGNAL}
     * @return bytes sent
     * @throws LastErrorException with errno
     */
    public static native long sendmsg(int fd, Msghdr msg, int flags) throws LastErrorException;

    /**
     * {@code ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)} of a {@code struct msghdr} in memory
     * the caller keeps reachable until the call returns.
     *
     * @param fd the socket
     * @param msg the message
     * @param flags {@link #MSG_NOSIGNAL}
     * @return bytes sent
     * @throws LastErrorException with errno
     */
    public static native long sendmsg(int fd, Pointer msg, int flags) throws LastErrorException;

    /**
     * {@code ssize_t recvmsg(int fd, struct msghdr *msg, int flags)} of a {@code struct msghdr} in memory the caller
     * keeps reachable until the call returns.
     *
     * @param fd the socket
     * @param msg the message buffers; {@code msg_flags} and {@code msg_controllen} are set on return
     * @param flags {@link #MSG_CMSG_CLOEXEC}
     * @return bytes received, as {@link #recvmsg(int, Msghdr, int)}
     * @throws LastErrorException with errno
     */
    public static native long recvmsg(int fd, Pointer msg, int flags) throws LastErrorException;

    /**
     * {@code ssize_t recvmsg(int fd, struct msghdr *msg, int flags)}.
     *
     * @param fd the socket
     * @param msg the message buffers; {@code msg_flags} is set on return
     * @param flags {@link #MSG_CMSG_CLOEXEC}
     * @return bytes received; 0 at the peer's orderly shutdown, and for a message of 0 bytes (which, with
     *         {@link #SO_PASSCRED} set, comes with an {@link #SCM_CREDENTIALS} control message)
     * @throws LastErrorException with errno
     */
    public static native long recvmsg(int fd, Msghdr msg, int flags) throws LastErrorException;

    /**
     * {@code int getsockopt(int fd, int level, int name, void *value, socklen_t *len)}.
     *
     * @param fd the socket
     * @param level {@link #SOL_SOCKET}
     * @param name {@link #SO_PEERCRED}
     * @param value the value's buffer
     * @param len in and out: its length
     * @return 0
     * @throws LastErrorException with errno
     */
    public static native int getsockopt(int fd, int level, int name, Ucred value, int[] len)
            throws LastErrorException;

    /**
     * {@code int setsockopt(int fd, int level, int name, const void *value, socklen_t len)} for an {@code int}
     * option.
     *
     * @param fd the socket
     * @param level {@link #SOL_SOCKET}
     * @param name {@link #SO_PASSCRED}
     * @param value one int
     * @param len 4
     * @return 0
     * @throws LastErrorException with errno
     */
    public static native int setsockopt(int fd, int level, int name, int[] value, int len) throws LastErrorException;

    /**
     * {@code int poll(struct pollfd *fds, nfds_t n, int timeout)}.
     *
     * @param fds one pollfd
     * @param n 1
     * @param timeoutMillis milliseconds, -1 for none
     * @return how many are ready
     * @throws LastErrorException with errno
     */
    public static native int poll(Pollfd fds, com.sun.jna.NativeLong n, int timeoutMillis) throws LastErrorException;

    /**
     * {@code int poll(struct pollfd *fds, nfds_t n, int timeout)} of {@code struct pollfd}s in memory the caller
     * keeps reachable until the call returns.
     *
     * @param fds the pollfds
     * @param n how many
     * @param timeoutMillis milliseconds, -1 for none
     * @return how many are ready
     * @throws LastErrorException with errno
     */
    public static native int poll(Pointer fds, com.sun.jna.NativeLong n, int timeoutMillis) throws LastErrorException;

    /**
     * {@code int shutdown(int fd, int how)}.
     *
     * @param fd the socket
     * @param how {@link #SHUT_RDWR}
     * @return 0
     * @throws LastErrorException with errno
     */
    public static native int shutdown(int fd, int how) throws LastErrorException;

    /**
     * {@code int chmod(const char *path, mode_t mode)}.
     *
     * @param path the path
     * @param mode the mode
     * @return 0
     * @throws LastErrorException with errno
     */
    public static native int chmod(String path, int mode) throws LastErrorException;

    /**
     * {@code int chown(const char *path, uid_t owner, gid_t group)}.
     *
     * @param path the path
     * @param owner the user id, -1 to keep it
     * @param group the group id, -1 to keep it
     * @return 0
     * @throws LastErrorException with errno
     */
    public static native int chown(String path, int owner, int group) throws LastErrorException;

    /**
     * {@code uid_t getuid(void)}.
     *
     * @return this process's real uid
     */
    public static native int getuid();
}

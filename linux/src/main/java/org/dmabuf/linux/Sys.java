package org.dmabuf.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;

/**
 * Checked system calls: each returns an owned result or throws a {@link LinuxException} that names the call, the
 * fd or path and errno. Stateless but for a per-thread {@code statx} buffer; any thread.
 */
public final class Sys {
    private static final ThreadLocal<Memory> STATX_BUF = ThreadLocal.withInitial(() -> new Memory(Statx.SIZE));
    /** The empty path {@code statx(fd, "", AT_EMPTY_PATH)} takes: one NUL byte, never freed (a static field). */
    private static final Memory EMPTY_PATH = new Memory(1);

    static {
        EMPTY_PATH.setByte(0, (byte) 0);
    }

    private Sys() {
    }

    /**
     * Opens a path with {@code O_CLOEXEC} added.
     *
     * @param path the path
     * @param flags {@code O_*}
     * @return the owned fd
     * @throws LinuxException naming {@code open}, the path and errno ({@code ENOENT}, {@code EACCES}, ...); for
     *         {@code EACCES} or {@code EPERM} on a device node, also the node's owner, group and mode, this
     *         process's uid and groups, and what to do ({@link NodeAccess#explain})
     */
    public static Fd open(String path, int flags) {
        try {
            return new Fd(LibC.open(path, flags | LibC.O_CLOEXEC, 0), path);
        } catch (LastErrorException e) {
            int errno = e.getErrorCode();
            throw new LinuxException("open", path, errno, NodeAccess.explain(path, errno));
        }
    }

    /**
     * Creates a memfd with {@code MFD_CLOEXEC} added.
     *
     * @param name its name in /proc
     * @param flags {@code MFD_*}
     * @return the owned fd
     * @throws LinuxException naming {@code memfd_create} and errno
     */
    public static Fd memfd(String name, int flags) {
        byte[] utf8 = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] z = java.util.Arrays.copyOf(utf8, utf8.length + 1); // NUL-terminated
        try {
            return new Fd(LibC.memfd_create(z, flags | LibC.MFD_CLOEXEC), "memfd:", name);
        } catch (LastErrorException e) {
            throw new LinuxException("memfd_create", "memfd:" + name, e.getErrorCode());
        }
    }

    /**
     * Creates a memfd named {@code prefix + name} with {@code MFD_CLOEXEC} added, for a buffer that lives long: its
     * description keeps the two parts as they are (the prefix's description is made once per prefix, the name is
     * the caller's own string), so no string per memfd stays on the heap.
     *
     * @param prefix a constant, e.g. {@code "dmabuf:"}
     * @param name the rest of the name, e.g. the buffer's name; the kernel's name is cut at 249 bytes
     * @param flags {@code MFD_*}
     * @return the owned fd
     * @throws LinuxException naming {@code memfd_create} and errno
     */
    public static Fd memfd(String prefix, String name, int flags) {
        byte[] utf8 = (prefix + name).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] z = java.util.Arrays.copyOf(utf8, Math.min(utf8.length, 249) + 1); // NUL-terminated
        String what = MEMFD_PREFIXES.computeIfAbsent(prefix, p -> "memfd:" + p);
        try {
            return new Fd(LibC.memfd_create(z, flags | LibC.MFD_CLOEXEC), what, name);
        } catch (LastErrorException e) {
            throw new LinuxException("memfd_create", what + name, e.getErrorCode());
        }
    }

    /** {@code "memfd:" + prefix} per prefix given to {@link #memfd(String, String, int)}: a few constants. */
    private static final java.util.Map<String, String> MEMFD_PREFIXES = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The device number of the kernel's internal mount that holds every memfd ({@code st_dev} of a memfd), learnt
     * once from a memfd of this process's own. A regular file with this {@code st_dev} is a memfd: no other file
     * on that mount can be held as an fd. A hugetlbfs memfd has another device and is recognised the slow way.
     *
     * @return the device number, or -1 if no memfd could be made (then nothing matches it)
     */
    public static long memfdDevice() {
        return MemfdDevice.DEV;
    }

    /** Holder: learnt at the first use. */
    private static final class MemfdDevice {
        static final long DEV = probe();

        private static long probe() {
            try (Fd probe = memfd("dmabuf-osgi:st_dev", 0)) {
                return fstat(probe.get()).dev();
            } catch (RuntimeException e) {
                return -1;
            }
        }
    }

    /**
     * Duplicates an fd with {@code F_DUPFD_CLOEXEC}.
     *
     * @param fd the fd
     * @param what what it is, for errors and the new owner
     * @return the owned duplicate
     * @throws LinuxException naming {@code fcntl(F_DUPFD_CLOEXEC)}, the fd and errno ({@code EBADF})
     */
    public static Fd dup(int fd, String what) {
        return dup(fd, what, null);
    }

    /**
     * Duplicates an fd with {@code F_DUPFD_CLOEXEC}, described in two parts ({@link Fd#Fd(int, String, Object)}).
     *
     * @param fd the fd
     * @param what the start of what it is
     * @param detail what follows, or null
     * @return the owned duplicate
     * @throws LinuxException naming {@code fcntl(F_DUPFD_CLOEXEC)}, the fd and errno ({@code EBADF})
     */
    public static Fd dup(int fd, String what, Object detail) {
        try {
            return new Fd(LibC.fcntl(fd, LibC.F_DUPFD_CLOEXEC, 0), what, detail);
        } catch (LastErrorException e) {
            throw new LinuxException("fcntl(F_DUPFD_CLOEXEC)", "fd " + fd, e.getErrorCode());
        }
    }

    /**
     * {@code fcntl(fd, cmd, arg)}.
     *
     * @param fd the fd
     * @param cmd the command
     * @param cmdName its name, for errors
     * @param arg the argument
     * @return the result
     * @throws LinuxException naming the command, the fd and errno
     */
    public static int fcntl(int fd, int cmd, String cmdName, int arg) {
        try {
            return LibC.fcntl(fd, cmd, arg);
        } catch (LastErrorException e) {
            throw new LinuxException("fcntl(" + cmdName + ")", "fd " + fd, e.getErrorCode());
        }
    }

    /**
     * Sets a file's size.
     *
     * @param fd the fd
     * @param size bytes
     * @throws LinuxException naming {@code ftruncate}, the fd and errno ({@code EPERM} on a sealed memfd)
     */
    public static void ftruncate(int fd, long size) {
        try {
            LibC.ftruncate64(fd, size);
        } catch (LastErrorException e) {
            throw new LinuxException("ftruncate", "fd " + fd + ", size " + size, e.getErrorCode());
        }
    }

    /**
     * {@code statx(fd, "", AT_EMPTY_PATH)}: device, inode, mode and size, with no allocation but the result.
     *
     * @param fd the fd
     * @return what it says
     * @throws LinuxException naming {@code statx}, the fd and errno ({@code EBADF} for a closed fd)
     */
    public static FileStat fstat(int fd) {
        Memory buf = STATX_BUF.get();
        try {
            LibC.statx(fd, EMPTY_PATH, LibC.AT_EMPTY_PATH, LibC.STATX_BASIC, buf);
        } catch (LastErrorException e) {
            throw new LinuxException("statx", "fd " + fd, e.getErrorCode());
        }
        return new FileStat(FileStat.dev(buf.getInt(Statx.OFFSET_DEV_MAJOR), buf.getInt(Statx.OFFSET_DEV_MINOR)),
                buf.getLong(Statx.OFFSET_INO), buf.getShort(Statx.OFFSET_MODE) & 0xffff,
                buf.getLong(Statx.OFFSET_SIZE));
    }

    /**
     * The size the kernel gives a buffer's file: for a dma-buf {@code lseek(fd, 0, SEEK_END)}, which
     * {@code dma_buf_llseek} answers with the buffer's size without moving the file position (the {@code size}
     * column of debugfs {@code bufinfo}); for a memfd or another regular file, {@code statx}'s size.
     *
     * @param fd the fd
     * @param kind what it is
     * @return bytes
     * @throws LinuxException naming {@code lseek} or {@code statx}, the fd and errno
     */
    public static long sizeOf(int fd, org.dmabuf.api.BufferKind kind) {
        if (kind == org.dmabuf.api.BufferKind.MEMFD) {
            return fstat(fd).size();
        }
        return seekEnd(fd);
    }

    /**
     * The size the kernel gives a buffer's file, from a {@code statx} already made of it: a memfd's (or another
     * regular file's) {@code stx_size}; a dma-buf's {@code stx_size} too, since {@code dma_buf_getfile()} sets the
     * inode's size to the buffer's, so no {@code lseek} is needed; only where a kernel left it 0 is the size
     * {@code lseek(fd, 0, SEEK_END)}'s, as {@link #sizeOf(int, org.dmabuf.api.BufferKind)} says.
     *
     * @param fd the fd
     * @param kind what it is
     * @param stat what {@link #fstat} said of the fd
     * @return bytes
     * @throws LinuxException naming {@code lseek}, the fd and errno, where it is called
     */
    public static long sizeOf(int fd, org.dmabuf.api.BufferKind kind, FileStat stat) {
        if (kind == org.dmabuf.api.BufferKind.MEMFD || stat.size() > 0) {
            return stat.size();
        }
        return seekEnd(fd);
    }

    private static long seekEnd(int fd) {
        try {
            return LibC.lseek64(fd, 0, LibC.SEEK_END);
        } catch (LastErrorException e) {
            throw new LinuxException("lseek(SEEK_END)", "fd " + fd, e.getErrorCode());
        }
    }

    /**
     * Runs a call again while it fails with {@code EINTR} (a signal came), and with {@code alsoEagain} while it
     * fails with {@code EAGAIN} (the driver asks for another try, as libdrm's {@code drmIoctl} retries it; not for a
     * non-blocking call, where {@code EAGAIN} is an answer); any other error is thrown.
     *
     * @param call the call
     * @param alsoEagain whether {@code EAGAIN} is retried too
     * @return its result
     * @throws LinuxException the call's, for any other errno
     */
    public static int retrying(java.util.function.IntSupplier call, boolean alsoEagain) {
        while (true) {
            try {
                return call.getAsInt();
            } catch (LinuxException e) {
                if (e.errnoValue() != Errno.EINTR && !(alsoEagain && e.errnoValue() == Errno.EAGAIN)) {
                    throw e;
                }
                RETRIED.increment();
            }
        }
    }

    /**
     * Calls this layer repeated because the kernel answered {@code EINTR} or {@code EAGAIN}: {@link #retrying},
     * {@link #poll}, {@code DMA_BUF_IOCTL_SYNC} and {@link UnixSocket}'s waits, sends and receives. Counted only
     * on a retry, never on the call's own path; for the tests that send signals to prove the retries happen.
     */
    static final java.util.concurrent.atomic.LongAdder RETRIED = new java.util.concurrent.atomic.LongAdder();

    /**
     * An ioctl with a struct argument, repeated as {@link #retrying} says; the struct, and the native memory it
     * points to ({@code keepAlive}: a plane array, a name buffer), stay reachable until the call has returned.
     *
     * @param fd the fd
     * @param request the request from {@link Ioc#request(long)}
     * @param name the request's name, for errors
     * @param target what the fd is and what the call is about, for errors
     * @param arg the argument
     * @param keepAlive native memory the struct points to, or null
     * @param alsoEagain whether {@code EAGAIN} is retried (DRM's {@code drmIoctl}), or the caller's to decide
     * @return what the driver returns
     * @throws LinuxException naming {@code ioctl(NAME)}, the target and errno
     */
    public static int ioctlRetrying(int fd, NativeLong request, String name, String target, Structure arg,
            Object keepAlive, boolean alsoEagain) {
        try {
            return retrying(() -> ioctl(fd, request, name, target, arg), alsoEagain);
        } finally {
            java.lang.ref.Reference.reachabilityFence(arg);
            java.lang.ref.Reference.reachabilityFence(keepAlive);
        }
    }

    /**
     * An ioctl with a struct argument: writes the struct, calls, reads it back.
     *
     * @param fd the fd
     * @param request the request from {@link Ioc#request(long)}
     * @param name the request's name, for errors ({@code "DMA_HEAP_IOCTL_ALLOC"})
     * @param target what the fd is, for errors
     * @param arg the argument
     * @return what the driver returns
     * @throws LinuxException naming {@code ioctl(NAME)}, the target and errno ({@code ENOTTY} on the wrong fd)
     */
    public static int ioctl(int fd, NativeLong request, String name, String target, Structure arg) {
        arg.write();
        try {
            int r = LibC.ioctl(fd, request, arg.getPointer());
            arg.read();
            return r;
        } catch (LastErrorException e) {
            throw new LinuxException("ioctl(" + name + ")", target + " (fd " + fd + ")", e.getErrorCode());
        }
    }

    /**
     * An ioctl with a raw pointer argument (or null).
     *
     * @param fd the fd
     * @param request the request from {@link Ioc#request(long)}
     * @param name the request's name, for errors
     * @param target what the fd is, for errors
     * @param arg the argument, or null
     * @return what the driver returns
     * @throws LinuxException naming {@code ioctl(NAME)}, the target and errno
     */
    public static int ioctl(int fd, NativeLong request, String name, String target, Pointer arg) {
        try {
            return LibC.ioctl(fd, request, arg);
        } catch (LastErrorException e) {
            throw new LinuxException("ioctl(" + name + ")", target + " (fd " + fd + ")", e.getErrorCode());
        }
    }

    /**
     * {@code poll} on one fd until one of {@code events} is ready or the time runs out; a signal that interrupts
     * the wait ({@code EINTR}) does not end it: it goes on for the time left.
     *
     * @param fd the fd
     * @param events {@code POLLIN}, {@code POLLOUT}
     * @param timeout the longest wait; zero or negative only checks
     * @param call the call, for errors
     * @param target what the fd is, for errors
     * @return true if ready, false if the time ran out
     * @throws LinuxException naming the call, the target and errno ({@code EBADF} for an fd that is not open)
     */
    public static boolean poll(int fd, short events, java.time.Duration timeout, String call, String target) {
        long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
        SocketLibC.Pollfd p = new SocketLibC.Pollfd();
        p.fd = fd;
        p.events = events;
        NativeLong one = new NativeLong(1);
        while (true) {
            long left = deadline - System.nanoTime();
            // round up so that a wait never ends before its time; a negative time left only checks
            int ms = left <= 0 ? 0 : (int) Math.min(Integer.MAX_VALUE, (left + 999_999) / 1_000_000);
            p.revents = 0;
            int n;
            try {
                n = SocketLibC.poll(p, one, ms);
            } catch (LastErrorException e) {
                if (e.getErrorCode() == Errno.EINTR) {
                    RETRIED.increment();
                    continue;
                }
                throw new LinuxException(call, target + " (fd " + fd + ")", e.getErrorCode());
            }
            if (n > 0) {
                if ((p.revents & POLLNVAL) != 0) {
                    throw new LinuxException(call, target + " (fd " + fd + ")", Errno.EBADF);
                }
                return true; // one of events, or POLLERR / POLLHUP: nothing more to wait for
            }
            if (deadline - System.nanoTime() <= 0) {
                return false;
            }
        }
    }

    /** {@code POLLNVAL}: poll's answer for an fd that is not open. */
    public static final short POLLNVAL = 0x20;
}

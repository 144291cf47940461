package org.dmabuf.linux;

import com.sun.jna.NativeLong;
import com.sun.jna.Structure;
import com.sun.jna.Structure.FieldOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.dmabuf.api.Fence;
import org.dmabuf.api.FenceTimeoutException;
import org.dmabuf.api.FenceUnsupportedException;
import org.dmabuf.api.SyncDirection;

/**
 * A {@link Fence} on a kernel {@code sync_file} ({@code <linux/sync_file.h>}): {@code SYNC_IOC_FILE_INFO},
 * {@code SYNC_IOC_MERGE} and {@code poll}; and the dma-buf calls that give and take fences
 * ({@link #export(int, SyncDirection, String)}, {@link #importInto(int, Fence, SyncDirection, String)},
 * {@link #awaitIdle(int, SyncDirection, Duration, String)}), which turn {@code ENOTTY} into a
 * {@link FenceUnsupportedException} and say once per process in the log that CPU sync is used instead.
 *
 * <p>A received fence fd is taken with {@link #dup(int)} (the caller keeps its fd) or {@link #adopt(Fd)} (the
 * fence takes it); either refuses an fd that is no sync_file. Each instance owns its fd and has one owner, who
 * closes it; any thread may wait on it, but not while the owner closes it.
 */
public final class SyncFile implements Fence {
    /** {@code SYNC_IOC_MAGIC}. */
    public static final int SYNC_IOC_MAGIC = '>';
    /** {@code SYNC_IOC_MERGE = _IOWR(SYNC_IOC_MAGIC, 3, struct sync_merge_data)}. */
    public static final long SYNC_IOC_MERGE = Ioc.iowr(SYNC_IOC_MAGIC, 3, MergeData.class);
    /** {@code SYNC_IOC_FILE_INFO = _IOWR(SYNC_IOC_MAGIC, 4, struct sync_file_info)}. */
    public static final long SYNC_IOC_FILE_INFO = Ioc.iowr(SYNC_IOC_MAGIC, 4, FileInfo.class);
    /** The length of the name arrays of {@code struct sync_merge_data} and {@code struct sync_file_info}. */
    public static final int NAME_LEN = 32;
    /** What {@code /proc/self/fd} shows for a sync_file. */
    public static final String LINK = "anon_inode:sync_file";

    private static final NativeLong MERGE = Ioc.request(SYNC_IOC_MERGE);
    private static final NativeLong FILE_INFO = Ioc.request(SYNC_IOC_FILE_INFO);
    private static final System.Logger LOG = System.getLogger("org.dmabuf.linux");
    /** Whether the fallback to CPU sync was said in the log; tests of the message reset it. */
    static final AtomicBoolean UNSUPPORTED_LOGGED = new AtomicBoolean();

    private final Fd fd;
    private final int number;

    /**
     * {@code struct sync_merge_data { char name[32]; __s32 fd2; __s32 fence; __u32 flags; __u32 pad; }}.
     */
    @FieldOrder({"name", "fd2", "fence", "flags", "pad"})
    public static class MergeData extends Structure {
        /** {@code char name[32]}: the new fence's name. */
        public byte[] name = new byte[NAME_LEN];
        /** {@code __s32 fd2}: the other sync_file. */
        public int fd2;
        /** {@code __s32 fence}: the new sync_file, returned. */
        public int fence;
        /** {@code __u32 flags}: 0. */
        public int flags;
        /** {@code __u32 pad}: 0. */
        public int pad;
    }

    /**
     * {@code struct sync_file_info { char name[32]; __s32 status; __u32 flags; __u32 num_fences; __u32 pad;
     * __u64 sync_fence_info; }}: with {@code num_fences} 0 the kernel fills in the name, status and count only.
     */
    @FieldOrder({"name", "status", "flags", "num_fences", "pad", "sync_fence_info"})
    public static class FileInfo extends Structure {
        /** {@code char name[32]}. */
        public byte[] name = new byte[NAME_LEN];
        /** {@code __s32 status}: 1 signalled, 0 active, a negative errno for an error. */
        public int status;
        /** {@code __u32 flags}: 0. */
        public int flags;
        /** {@code __u32 num_fences}: in, the room at {@code sync_fence_info}; out, the count. */
        public int num_fences;
        /** {@code __u32 pad}: 0. */
        public int pad;
        /** {@code __u64 sync_fence_info}: a pointer to {@code struct sync_fence_info[num_fences]}, or 0. */
        public long sync_fence_info;

        String name() {
            int n = 0;
            while (n < name.length && name[n] != 0) {
                n++;
            }
            return new String(name, 0, n, StandardCharsets.UTF_8);
        }
    }

    private SyncFile(Fd fd) {
        this.fd = fd;
        this.number = fd.get();
    }

    /**
     * A fence on a duplicate of a sync_file fd (for example one received with a frame): the caller keeps its fd.
     *
     * @param fd an fd that should be a sync_file
     * @return the fence, owned by the caller
     * @throws LinuxException naming the call, the fd and errno: {@code EBADF} naming
     *         {@code fcntl(F_DUPFD_CLOEXEC)} for an fd that is not open, {@code ENOTTY} naming
     *         {@code ioctl(SYNC_IOC_FILE_INFO)} and what the fd is for one that is no sync_file; nothing is left
     *         open
     */
    public static SyncFile dup(int fd) {
        Fd copy = Sys.dup(fd, "sync_file (dup of fd " + fd + ")");
        try {
            check(copy.get(), fd); // the duplicate is checked, so that the caller's fd cannot change meanwhile
            return new SyncFile(copy);
        } catch (RuntimeException | Error e) {
            closeQuietly(copy, e);
            throw e;
        }
    }

    /**
     * A fence that takes over an owned fd; if the fd is no sync_file it is closed and refused.
     *
     * @param fd an owned fd that should be a sync_file
     * @return the fence, owned by the caller
     * @throws LinuxException {@code ENOTTY} naming {@code ioctl(SYNC_IOC_FILE_INFO)}, the fd and what it is, for an
     *         fd that is no sync_file; {@code EBADF} for a closed one
     */
    public static SyncFile adopt(Fd fd) {
        try {
            check(fd.get(), fd.get());
            return new SyncFile(fd);
        } catch (RuntimeException | Error e) {
            closeQuietly(fd, e);
            throw e;
        }
    }

    /**
     * Refuses an fd that is no sync_file: by its /proc link, else by the kernel's answer to FILE_INFO.
     *
     * @param fd the fd to check
     * @param named the number errors name: the caller's fd of which {@code fd} is a duplicate
     */
    private static void check(int fd, int named) {
        String link = link(fd);
        if (link != null && !link.equals(LINK)) {
            // another kind of file: never send it an ioctl of the sync_file's number
            throw new LinuxException("ioctl(SYNC_IOC_FILE_INFO)", "fd " + named + " (" + link + ") is not a sync_file",
                    Errno.ENOTTY);
        }
        // where /proc is not mounted, the kernel decides
        info(fd, fd == named ? "sync_file?" : "sync_file? (a duplicate of fd " + named + ")");
    }

    /** The /proc/self/fd link of an fd, or null where /proc cannot say. */
    private static String link(int fd) {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
        } catch (java.io.IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    private static FileInfo info(int fd, String what) {
        FileInfo info = new FileInfo();
        Sys.ioctlRetrying(fd, FILE_INFO, "SYNC_IOC_FILE_INFO", what, info, null, false);
        return info;
    }

    private static void closeQuietly(Fd fd, Throwable primary) {
        try {
            fd.close();
        } catch (RuntimeException e) {
            primary.addSuppressed(e);
        }
    }

    /**
     * {@code DMA_BUF_IOCTL_EXPORT_SYNC_FILE} as a fence.
     *
     * @param dmabuf the dma-buf's fd
     * @param direction {@code READ}: a fence on its writers; {@code WRITE}, {@code READ_WRITE}: on every user
     * @param target the buffer, for errors
     * @return the fence, owned by the caller
     * @throws FenceUnsupportedException for {@code ENOTTY} (a kernel before 6.0, or a file that is no dma-buf)
     * @throws LinuxException naming the call, the buffer and errno otherwise
     */
    public static SyncFile export(int dmabuf, SyncDirection direction, String target) {
        String call = "ioctl(DMA_BUF_IOCTL_EXPORT_SYNC_FILE)";
        Fd fd;
        try {
            fd = DmaBufUapi.exportSyncFile(dmabuf, direction, target);
        } catch (LinuxException e) {
            throw unsupportedOr(call, e);
        }
        return new SyncFile(fd);
    }

    /**
     * {@code DMA_BUF_IOCTL_IMPORT_SYNC_FILE} of a fence.
     *
     * @param dmabuf the dma-buf's fd
     * @param fence an open fence
     * @param direction {@code READ}: a read fence; {@code WRITE}, {@code READ_WRITE}: a write fence
     * @param target the buffer, for errors
     * @throws FenceUnsupportedException for {@code ENOTTY} (a kernel before 6.0, or a file that is no dma-buf)
     * @throws LinuxException naming the call, the fds and errno otherwise ({@code EBADF} for a closed fence)
     */
    public static void importInto(int dmabuf, Fence fence, SyncDirection direction, String target) {
        String call = "ioctl(DMA_BUF_IOCTL_IMPORT_SYNC_FILE)";
        int f = fence.fd();
        try {
            DmaBufUapi.importSyncFile(dmabuf, f, direction, target + ", sync_file fd " + f);
        } catch (LinuxException e) {
            throw unsupportedOr(call, e);
        } finally {
            java.lang.ref.Reference.reachabilityFence(fence);
        }
    }

    /**
     * Waits for a dma-buf's implicit fences: {@code poll} on its fd with {@code POLLIN} for a read (the writers
     * are done) or {@code POLLOUT} for a write (every user is done).
     *
     * @param dmabuf the buffer's fd
     * @param direction the access to come
     * @param timeout the longest wait
     * @param target the buffer, for errors
     * @throws FenceTimeoutException ({@code ETIME}) naming the buffer when work is still pending
     * @throws LinuxException naming {@code poll}, the buffer and errno
     */
    public static void awaitIdle(int dmabuf, SyncDirection direction, Duration timeout, String target) {
        short events = direction.allowsWrite() ? SocketLibC.POLLOUT : SocketLibC.POLLIN;
        String call = "awaitIdle";
        if (!Sys.poll(dmabuf, events, timeout, "poll(" + (direction.allowsWrite() ? "POLLOUT" : "POLLIN") + ")",
                target)) {
            throw new FenceTimeoutException(call, target + " (fd " + dmabuf + "): "
                    + (direction.allowsWrite() ? "readers or writers" : "writers") + " still pending after "
                    + timeout.toMillis() + " ms");
        }
    }

    private static RuntimeException unsupportedOr(String call, LinuxException e) {
        if (e.errnoValue() != Errno.ENOTTY) {
            return e;
        }
        if (UNSUPPORTED_LOGGED.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, "dma-buf fences are not available here (" + e.getMessage()
                    + "): a kernel before 6.0 or a buffer that is no dma-buf; CPU sync (DMA_BUF_IOCTL_SYNC) is used"
                    + " instead");
        }
        return new FenceUnsupportedException(call, "ENOTTY", e.target() + ": no fences (a kernel before 6.0, or no"
                + " dma-buf); use CPU sync", e);
    }

    private String what() {
        return "sync_file fd " + number;
    }

    @Override
    public int fd() {
        if (!fd.isOpen()) {
            throw closed("fd");
        }
        return number;
    }

    private LinuxException closed(String call) {
        return new LinuxException(call, what() + ": the fence was closed", Errno.EBADF);
    }

    private FileInfo info(String call) {
        if (!fd.isOpen()) {
            throw closed(call);
        }
        try {
            return info(number, what());
        } finally {
            java.lang.ref.Reference.reachabilityFence(this);
        }
    }

    @Override
    public String name() {
        return info("name").name();
    }

    @Override
    public int status() {
        return info("status").status;
    }

    @Override
    public boolean isSignalled() {
        if (!fd.isOpen()) {
            throw closed("isSignalled");
        }
        try {
            return Sys.poll(number, SocketLibC.POLLIN, Duration.ZERO, "poll(POLLIN)", what());
        } finally {
            java.lang.ref.Reference.reachabilityFence(this);
        }
    }

    @Override
    public void await(Duration timeout) {
        if (!fd.isOpen()) {
            throw closed("await");
        }
        boolean signalled;
        try {
            signalled = Sys.poll(number, SocketLibC.POLLIN, timeout, "poll(POLLIN)", what());
        } finally {
            java.lang.ref.Reference.reachabilityFence(this);
        }
        if (!signalled) {
            String name;
            try {
                name = info(number, what()).name();
            } catch (LinuxException e) {
                name = "?";
            }
            throw new FenceTimeoutException("await", what() + " ('" + name + "') not signalled after "
                    + timeout.toMillis() + " ms");
        }
    }

    @Override
    public SyncFile merge(Fence other, String name) {
        if (!fd.isOpen()) {
            throw closed("merge");
        }
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        if (utf8.length >= NAME_LEN) {
            throw new LinuxException("ioctl(SYNC_IOC_MERGE)", what() + ", name of " + utf8.length + " bytes",
                    Errno.EINVAL);
        }
        int fd2 = other.fd();
        MergeData m = new MergeData();
        System.arraycopy(utf8, 0, m.name, 0, utf8.length);
        m.fd2 = fd2;
        m.fence = -1;
        try {
            Sys.ioctlRetrying(number, MERGE, "SYNC_IOC_MERGE", what() + " and fd " + fd2, m, null, false);
        } finally {
            java.lang.ref.Reference.reachabilityFence(this);
            java.lang.ref.Reference.reachabilityFence(other);
        }
        return new SyncFile(new Fd(m.fence, "sync_file '" + name + "'"));
    }

    @Override
    public boolean isClosed() {
        return !fd.isOpen();
    }

    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return "SyncFile[" + what() + (fd.isOpen() ? "" : ", closed") + "]";
    }
}

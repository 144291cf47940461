package org.dmabuf.linux;

import com.sun.jna.LastErrorException;
import com.sun.jna.NativeLong;
import com.sun.jna.Structure;
import com.sun.jna.Structure.FieldOrder;
import java.nio.charset.StandardCharsets;
import org.dmabuf.api.SyncDirection;

/**
 * The dma-buf UAPI of {@code <linux/dma-buf.h>}: {@code DMA_BUF_IOCTL_SYNC}, {@code DMA_BUF_SET_NAME} and the
 * fence calls {@code DMA_BUF_IOCTL_EXPORT_SYNC_FILE} / {@code DMA_BUF_IOCTL_IMPORT_SYNC_FILE} (kernel 6.0+).
 * Stateless; any thread. The sync path allocates nothing.
 */
public final class DmaBufUapi {
    /** {@code DMA_BUF_BASE}. */
    public static final int DMA_BUF_BASE = 'b';
    /** {@code DMA_BUF_SYNC_START}. */
    public static final long DMA_BUF_SYNC_START = 0L << 2;
    /** {@code DMA_BUF_SYNC_END}. */
    public static final long DMA_BUF_SYNC_END = 1L << 2;
    /** {@code DMA_BUF_IOCTL_SYNC = _IOW(DMA_BUF_BASE, 0, struct dma_buf_sync)}. */
    public static final long DMA_BUF_IOCTL_SYNC = Ioc.iow(DMA_BUF_BASE, 0, DmaBufSync.class);
    /** {@code DMA_BUF_SET_NAME_B = _IOW(DMA_BUF_BASE, 1, __u64)}: the name is passed by pointer. */
    public static final long DMA_BUF_SET_NAME_B = Ioc.iow(DMA_BUF_BASE, 1, 8);
    /**
     * {@code DMA_BUF_IOCTL_EXPORT_SYNC_FILE = _IOWR(DMA_BUF_BASE, 2, struct dma_buf_export_sync_file)}.
     */
    public static final long DMA_BUF_IOCTL_EXPORT_SYNC_FILE = Ioc.iowr(DMA_BUF_BASE, 2, ExportSyncFile.class);
    /**
     * {@code DMA_BUF_IOCTL_IMPORT_SYNC_FILE = _IOW(DMA_BUF_BASE, 3, struct dma_buf_import_sync_file)}.
     */
    public static final long DMA_BUF_IOCTL_IMPORT_SYNC_FILE = Ioc.iow(DMA_BUF_BASE, 3, ImportSyncFile.class);
    /** {@code DMA_BUF_NAME_LEN}. */
    public static final int DMA_BUF_NAME_LEN = 32;

    private static final NativeLong SYNC = Ioc.request(DMA_BUF_IOCTL_SYNC);
    private static final NativeLong SET_NAME = Ioc.request(DMA_BUF_SET_NAME_B);
    private static final NativeLong EXPORT_SYNC_FILE = Ioc.request(DMA_BUF_IOCTL_EXPORT_SYNC_FILE);
    private static final NativeLong IMPORT_SYNC_FILE = Ioc.request(DMA_BUF_IOCTL_IMPORT_SYNC_FILE);
    /**
     * Every {@code struct dma_buf_sync} a CPU access passes, made once: the one at index {@code i} holds flags
     * {@code i} ({@code DMA_BUF_SYNC_START = 0} or {@code _END = 4}, ORed with {@code READ = 1}, {@code WRITE = 2}).
     * {@code DMA_BUF_IOCTL_SYNC} is {@code _IOW}: the kernel only reads its argument, so every thread may pass the
     * same memory, and nothing is written or allocated per call. Static: reachable for as long as the class is.
     */
    private static final com.sun.jna.Memory SYNC_STRUCTS = new com.sun.jna.Memory(8 * 8);
    private static final com.sun.jna.Pointer[] SYNC_BY_FLAGS = new com.sun.jna.Pointer[8];

    static {
        for (int i = 0; i < 8; i++) {
            SYNC_STRUCTS.setLong(8L * i, i);
            SYNC_BY_FLAGS[i] = SYNC_STRUCTS.share(8L * i, 8);
        }
    }

    /** The shared, read-only {@code struct dma_buf_sync} for a START or END in a direction. */
    static com.sun.jna.Pointer syncArgument(boolean end, SyncDirection direction) {
        return SYNC_BY_FLAGS[(int) ((end ? DMA_BUF_SYNC_END : DMA_BUF_SYNC_START) | direction.flags())];
    }

    /** Each thread's {@code struct dma_buf_sync} for other flags (the kernel's checks of bad ones, in tests). */
    private static final ThreadLocal<com.sun.jna.Memory> SYNC_ARG =
            ThreadLocal.withInitial(() -> new com.sun.jna.Memory(8));

    private DmaBufUapi() {
    }

    /**
     * {@code struct dma_buf_sync { __u64 flags; }}.
     */
    @FieldOrder({"flags"})
    public static class DmaBufSync extends Structure {
        /** {@code __u64 flags}: {@code DMA_BUF_SYNC_START} or {@code _END}, ORed with READ, WRITE or RW. */
        public long flags;
    }

    /**
     * {@code struct dma_buf_export_sync_file { __u32 flags; __s32 fd; }}.
     */
    @FieldOrder({"flags", "fd"})
    public static class ExportSyncFile extends Structure {
        /** {@code __u32 flags}: {@code DMA_BUF_SYNC_READ}, {@code _WRITE} or both. */
        public int flags;
        /** {@code __s32 fd}: the sync_file the kernel returns. */
        public int fd;
    }

    /**
     * {@code struct dma_buf_import_sync_file { __u32 flags; __s32 fd; }}.
     */
    @FieldOrder({"flags", "fd"})
    public static class ImportSyncFile extends Structure {
        /** {@code __u32 flags}: {@code DMA_BUF_SYNC_READ}, {@code _WRITE} or both. */
        public int flags;
        /** {@code __s32 fd}: the sync_file to add. */
        public int fd;
    }

    /**
     * {@code DMA_BUF_IOCTL_EXPORT_SYNC_FILE}: the dma-buf's current fences as one sync_file, retried while the
     * kernel answers {@code EINTR} or {@code EAGAIN}; the argument stays reachable until the call returns.
     *
     * @param fd a dma-buf fd
     * @param direction {@code READ} for a fence on the writers, {@code WRITE} or {@code READ_WRITE} for one on
     *        every user
     * @param target what the fd is, for errors
     * @return the sync_file's fd ({@code O_CLOEXEC}), owned by the caller
     * @throws LinuxException naming {@code ioctl(DMA_BUF_IOCTL_EXPORT_SYNC_FILE)}, the fd and errno
     *         ({@code ENOTTY} before kernel 6.0 or on a file that is no dma-buf)
     */
    public static Fd exportSyncFile(int fd, SyncDirection direction, String target) {
        ExportSyncFile arg = new ExportSyncFile();
        arg.flags = direction.flags();
        arg.fd = -1;
        Sys.ioctlRetrying(fd, EXPORT_SYNC_FILE, "DMA_BUF_IOCTL_EXPORT_SYNC_FILE", target, arg, null, true);
        return new Fd(arg.fd, "sync_file of " + target);
    }

    /**
     * {@code DMA_BUF_IOCTL_IMPORT_SYNC_FILE}: adds a sync_file's fence to the dma-buf's fences, retried while the
     * kernel answers {@code EINTR} or {@code EAGAIN}. The sync_file stays the caller's.
     *
     * @param fd a dma-buf fd
     * @param syncFile the sync_file's fd
     * @param direction {@code READ} for a read fence, {@code WRITE} or {@code READ_WRITE} for a write fence
     * @param target what the fds are, for errors
     * @throws LinuxException naming {@code ioctl(DMA_BUF_IOCTL_IMPORT_SYNC_FILE)}, the fd and errno
     *         ({@code ENOTTY} before kernel 6.0 or on a file that is no dma-buf; {@code EINVAL} for a sync_file fd
     *         that is none)
     */
    public static void importSyncFile(int fd, int syncFile, SyncDirection direction, String target) {
        ImportSyncFile arg = new ImportSyncFile();
        arg.flags = direction.flags();
        arg.fd = syncFile;
        Sys.ioctlRetrying(fd, IMPORT_SYNC_FILE, "DMA_BUF_IOCTL_IMPORT_SYNC_FILE", target, arg, null, true);
    }

    /**
     * {@code DMA_BUF_IOCTL_SYNC}, retried while the kernel answers {@code EINTR} or {@code EAGAIN}.
     *
     * @param fd a dma-buf fd
     * @param end false for {@code DMA_BUF_SYNC_START}, true for {@code DMA_BUF_SYNC_END}
     * @param direction the CPU's access
     * @throws LinuxException naming {@code ioctl(DMA_BUF_IOCTL_SYNC)}, the fd and errno ({@code ENOTTY} if the
     *         fd is not a dma-buf, {@code EINVAL} for bad flags)
     */
    public static void sync(int fd, boolean end, SyncDirection direction) {
        syncRetrying(fd, syncArgument(end, direction), (end ? DMA_BUF_SYNC_END : DMA_BUF_SYNC_START)
                | direction.flags());
    }

    /** Issues DMA_BUF_IOCTL_SYNC with this argument, retrying on EINTR and EAGAIN as libdrm's drmIoctl does. */
    private static void syncRetrying(int fd, com.sun.jna.Pointer arg, long flags) {
        while (true) {
            try {
                LibC.ioctl(fd, SYNC, arg);
                return;
            } catch (LastErrorException e) {
                int errno = e.getErrorCode();
                if (errno != Errno.EINTR && errno != Errno.EAGAIN) {
                    throw new LinuxException("ioctl(DMA_BUF_IOCTL_SYNC)", "fd " + fd + ", flags 0x"
                            + Long.toHexString(flags), errno);
                }
                Sys.RETRIED.increment();
            }
        }
    }

    /**
     * {@code DMA_BUF_IOCTL_SYNC} with raw flags, for tests of the kernel's checks.
     *
     * @param fd a dma-buf fd
     * @param flags the flags as the kernel receives them
     * @throws LinuxException naming the ioctl, the fd and errno
     */
    public static void syncFlags(int fd, long flags) {
        com.sun.jna.Memory arg = SYNC_ARG.get();
        try {
            arg.setLong(0, flags); // the kernel reads the argument and writes nothing back
            syncRetrying(fd, arg, flags);
        } finally {
            java.lang.ref.Reference.reachabilityFence(arg);
        }
    }

    /**
     * {@code DMA_BUF_SET_NAME}: the name fdinfo and the kernel's bufinfo show.
     *
     * @param fd a dma-buf fd
     * @param name at most {@code DMA_BUF_NAME_LEN - 1} bytes of UTF-8
     * @throws LinuxException naming the ioctl, the fd and errno
     */
    public static void setName(int fd, String name) {
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        if (utf8.length >= DMA_BUF_NAME_LEN) {
            throw new LinuxException("ioctl(DMA_BUF_SET_NAME)", "fd " + fd + ", name of " + utf8.length + " bytes",
                    Errno.EINVAL);
        }
        byte[] z = new byte[utf8.length + 1];
        System.arraycopy(utf8, 0, z, 0, utf8.length);
        try {
            LibC.ioctl(fd, SET_NAME, z);
        } catch (LastErrorException e) {
            throw new LinuxException("ioctl(DMA_BUF_SET_NAME)", "fd " + fd, e.getErrorCode());
        }
    }
}

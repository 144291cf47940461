package org.dmabuf.examples.hugetlb;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.NativeLong;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import org.dmabuf.linux.LinuxException;

/**
 * The C library calls this exporter needs that {@code org.dmabuf.linux.LibC} does not bind ({@code fallocate},
 * {@code fstatfs}), and the {@code MFD_HUGETLB} flags of {@code <linux/memfd.h>}, bound as {@code LibC} binds its
 * own: JNA direct mapping, errno as {@link LastErrorException}, turned into a {@link LinuxException} naming the call
 * by the wrappers below.
 *
 * <p>Stateless; any thread.
 */
final class HugetlbLibC {
    static {
        Native.register(HugetlbLibC.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
    }

    private HugetlbLibC() {
    }

    /** {@code MFD_HUGETLB}: the memfd lives on the kernel's internal hugetlbfs mount. */
    static final int MFD_HUGETLB = 0x4;
    /** {@code MFD_HUGE_SHIFT}: {@code log2(page size) << MFD_HUGE_SHIFT} chooses a page size other than the default. */
    static final int MFD_HUGE_SHIFT = 26;
    /** {@code MFD_HUGE_2MB}. */
    static final int MFD_HUGE_2MB = 21 << MFD_HUGE_SHIFT;
    /** {@code MFD_HUGE_1GB}. */
    static final int MFD_HUGE_1GB = 30 << MFD_HUGE_SHIFT;
    /** {@code HUGETLBFS_MAGIC}: {@code statfs.f_type} of a hugetlbfs file ({@code <linux/magic.h>}). */
    static final long HUGETLBFS_MAGIC = 0x958458f6L;

    /** {@code sizeof(struct statfs)} on 64-bit Linux (x86_64, aarch64): 120 bytes; a larger buffer is harmless. */
    private static final int STATFS_SIZE = 128;

    /**
     * {@code int fallocate(int fd, int mode, off_t offset, off_t len)} (64-bit {@code off_t}).
     *
     * @param fd the fd
     * @param mode {@code FALLOC_FL_*}, 0 to allocate
     * @param offset the first byte
     * @param len bytes
     * @return 0
     * @throws LastErrorException with errno
     */
    static native int fallocate64(int fd, int mode, long offset, long len) throws LastErrorException;

    /**
     * {@code int fstatfs(int fd, struct statfs *buf)}.
     *
     * @param fd the fd
     * @param buf a {@code struct statfs}
     * @return 0
     * @throws LastErrorException with errno
     */
    static native int fstatfs(int fd, Pointer buf) throws LastErrorException;

    /**
     * Allocates the pages of {@code [0, len)} of a file: for a hugetlbfs memfd, takes them from the huge page pool
     * now, so that no later fault can find the pool empty.
     *
     * @param fd the fd
     * @param len bytes
     * @param target what the fd is, for the error
     * @throws LinuxException naming {@code fallocate}, the target and errno ({@code ENOSPC}: the pool is empty)
     */
    static void fallocate(int fd, long len, String target) {
        try {
            fallocate64(fd, 0, 0, len);
        } catch (LastErrorException e) {
            throw new LinuxException("fallocate", target, e.getErrorCode());
        }
    }

    /**
     * The file system of an fd: {@code f_type} and {@code f_bsize} of {@code struct statfs} (both
     * {@code __fsword_t}, a C {@code long}, at offsets 0 and 8 on 64-bit Linux); on hugetlbfs {@code f_bsize} is
     * the huge page size.
     *
     * @param fd the fd
     * @return {@code {f_type, f_bsize}}
     * @throws LinuxException naming {@code fstatfs}, the fd and errno
     */
    static long[] fstatfs(int fd) {
        Memory buf = new Memory(STATFS_SIZE);
        buf.clear();
        try {
            fstatfs(fd, buf);
        } catch (LastErrorException e) {
            throw new LinuxException("fstatfs", "fd " + fd, e.getErrorCode());
        }
        return new long[] {buf.getNativeLong(0).longValue() & 0xffffffffL,
            buf.getNativeLong(NativeLong.SIZE).longValue()};
    }
}

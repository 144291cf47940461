package org.dmabuf.linux;

import org.dmabuf.api.BufferId;

/**
 * What {@code statx} says of an fd: the device and inode (together the file's identity), the file type and mode,
 * the size. Immutable; any thread.
 *
 * @param dev {@code makedev(stx_dev_major, stx_dev_minor)} in the kernel's 64-bit encoding (glibc's
 *        {@code makedev}), the device of the filesystem the file is on
 * @param inode {@code stx_ino}, unique only within {@code dev}
 * @param mode {@code stx_mode}
 * @param size {@code stx_size}
 */
public record FileStat(long dev, long inode, int mode, long size) {
    /**
     * glibc's {@code makedev(major, minor)}: the {@code dev_t} that {@code stat(2)} reports.
     *
     * @param major the major number
     * @param minor the minor number
     * @return the 64-bit device number
     */
    public static long dev(int major, int minor) {
        long ma = major & 0xffffffffL;
        long mi = minor & 0xffffffffL;
        return ((ma & 0x00000fffL) << 8) | ((ma & 0xfffff000L) << 32) | (mi & 0x000000ffL)
                | ((mi & 0xffffff00L) << 12);
    }

    /**
     * The file's identity: ({@code st_dev}, {@code st_ino}).
     *
     * @return the identity
     */
    public BufferId id() {
        return new BufferId(dev, inode);
    }

    /**
     * Whether it is a regular file (a memfd is one; a dma-buf is not).
     *
     * @return {@code S_ISREG(mode)}
     */
    public boolean isRegular() {
        return (mode & Statx.S_IFMT) == Statx.S_IFREG;
    }
}

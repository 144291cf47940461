package org.dmabuf.linux;

/**
 * What {@code statx} says of an fd: the inode, the file type and mode, the size. Immutable; any thread.
 *
 * @param inode {@code stx_ino}
 * @param mode {@code stx_mode}
 * @param size {@code stx_size}
 */
public record FileStat(long inode, int mode, long size) {
    /**
     * Whether it is a regular file (a memfd is one; a dma-buf is not).
     *
     * @return {@code S_ISREG(mode)}
     */
    public boolean isRegular() {
        return (mode & Statx.S_IFMT) == Statx.S_IFREG;
    }
}

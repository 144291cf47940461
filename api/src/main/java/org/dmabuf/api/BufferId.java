package org.dmabuf.api;

/**
 * The identity of a buffer's kernel object: the device and inode of its file, ({@code st_dev}, {@code st_ino}) as
 * {@code fstat(2)} reports them. dma-bufs and memfds live on different internal filesystems whose inode counters
 * are independent, so an inode number alone is not an identity; the pair is. Immutable; any thread.
 *
 * @param dev {@code st_dev}: the filesystem's device number ({@code makedev(major, minor)}, glibc's encoding)
 * @param inode {@code st_ino}: the inode number, unique within {@code dev}; what the kernel's {@code bufinfo}
 *        prints in its {@code ino} column
 */
public record BufferId(long dev, long inode) {
    /** The identity of a buffer that has no storage yet. */
    public static final BufferId NONE = new BufferId(0, 0);

    /**
     * The device's major number.
     *
     * @return glibc's {@code major(dev)}
     */
    public int major() {
        return (int) (((dev >>> 32) & 0xfffff000L) | ((dev >>> 8) & 0x00000fffL));
    }

    /**
     * The device's minor number.
     *
     * @return glibc's {@code minor(dev)}
     */
    public int minor() {
        return (int) (((dev >>> 12) & 0xffffff00L) | (dev & 0x000000ffL));
    }

    /**
     * As {@code ls -i} and {@code stat} print it: {@code major:minor/inode}.
     *
     * @return for example {@code 0:14/1093}
     */
    @Override
    public String toString() {
        return major() + ":" + minor() + "/" + inode;
    }
}

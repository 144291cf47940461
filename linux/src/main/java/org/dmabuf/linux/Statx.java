package org.dmabuf.linux;

import com.sun.jna.Structure;
import com.sun.jna.Structure.FieldOrder;

/**
 * {@code struct statx} from {@code <linux/stat.h>}: the same layout on every architecture, unlike
 * {@code struct stat}. Used for a file's inode, type and size. Not thread-safe: one thread fills and reads one
 * instance.
 *
 * <pre>
 * struct statx {
 *     __u32 stx_mask; __u32 stx_blksize; __u64 stx_attributes;
 *     __u32 stx_nlink; __u32 stx_uid; __u32 stx_gid; __u16 stx_mode; __u16 __spare0[1];
 *     __u64 stx_ino; __u64 stx_size; __u64 stx_blocks; __u64 stx_attributes_mask;
 *     struct statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
 *     __u32 stx_rdev_major; __u32 stx_rdev_minor; __u32 stx_dev_major; __u32 stx_dev_minor;
 *     __u64 __spare2[14];   // stx_mnt_id, dio alignment and spares in newer headers
 * };
 * </pre>
 */
@FieldOrder({"stx_mask", "stx_blksize", "stx_attributes", "stx_nlink", "stx_uid", "stx_gid", "stx_mode",
    "spare0", "stx_ino", "stx_size", "stx_blocks", "stx_attributes_mask", "stx_atime", "stx_btime", "stx_ctime",
    "stx_mtime", "stx_rdev_major", "stx_rdev_minor", "stx_dev_major", "stx_dev_minor", "spare2"})
public class Statx extends Structure {
    /** {@code S_IFMT}. */
    public static final int S_IFMT = 0170000;
    /** {@code S_IFREG}. */
    public static final int S_IFREG = 0100000;
    /** {@code S_IFCHR}. */
    public static final int S_IFCHR = 0020000;

    /** {@code __u32 stx_mask}. */
    public int stx_mask;
    /** {@code __u32 stx_blksize}. */
    public int stx_blksize;
    /** {@code __u64 stx_attributes}. */
    public long stx_attributes;
    /** {@code __u32 stx_nlink}. */
    public int stx_nlink;
    /** {@code __u32 stx_uid}. */
    public int stx_uid;
    /** {@code __u32 stx_gid}. */
    public int stx_gid;
    /** {@code __u16 stx_mode}. */
    public short stx_mode;
    /** {@code __u16 __spare0[1]}. */
    public short spare0;
    /** {@code __u64 stx_ino}. */
    public long stx_ino;
    /** {@code __u64 stx_size}. */
    public long stx_size;
    /** {@code __u64 stx_blocks}. */
    public long stx_blocks;
    /** {@code __u64 stx_attributes_mask}. */
    public long stx_attributes_mask;
    /** {@code struct statx_timestamp stx_atime}. */
    public Timestamp stx_atime;
    /** {@code struct statx_timestamp stx_btime}. */
    public Timestamp stx_btime;
    /** {@code struct statx_timestamp stx_ctime}. */
    public Timestamp stx_ctime;
    /** {@code struct statx_timestamp stx_mtime}. */
    public Timestamp stx_mtime;
    /** {@code __u32 stx_rdev_major}. */
    public int stx_rdev_major;
    /** {@code __u32 stx_rdev_minor}. */
    public int stx_rdev_minor;
    /** {@code __u32 stx_dev_major}. */
    public int stx_dev_major;
    /** {@code __u32 stx_dev_minor}. */
    public int stx_dev_minor;
    /** {@code __u64 __spare2[14]}: newer fields this project does not read. */
    public long[] spare2 = new long[14];

    /** The offset of {@code stx_ino}, for readers that keep a raw buffer. */
    public static final int OFFSET_INO;
    /** The offset of {@code stx_size}. */
    public static final int OFFSET_SIZE;
    /** The offset of {@code stx_mode}. */
    public static final int OFFSET_MODE;
    /** The offset of {@code stx_dev_major}. */
    public static final int OFFSET_DEV_MAJOR;
    /** The offset of {@code stx_dev_minor}. */
    public static final int OFFSET_DEV_MINOR;
    /** {@code sizeof(struct statx)}. */
    public static final int SIZE;

    static {
        Statx s = new Statx();
        OFFSET_INO = s.fieldOffset("stx_ino");
        OFFSET_SIZE = s.fieldOffset("stx_size");
        OFFSET_MODE = s.fieldOffset("stx_mode");
        OFFSET_DEV_MAJOR = s.fieldOffset("stx_dev_major");
        OFFSET_DEV_MINOR = s.fieldOffset("stx_dev_minor");
        SIZE = s.size();
    }

    /**
     * {@code struct statx_timestamp { __s64 tv_sec; __u32 tv_nsec; __s32 __reserved; }}.
     */
    @FieldOrder({"tv_sec", "tv_nsec", "reserved"})
    public static class Timestamp extends Structure {
        /** {@code __s64 tv_sec}. */
        public long tv_sec;
        /** {@code __u32 tv_nsec}. */
        public int tv_nsec;
        /** {@code __s32 __reserved}. */
        public int reserved;
    }
}

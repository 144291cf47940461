package org.dmabuf.linux;

import com.sun.jna.NativeLong;
import com.sun.jna.Structure;
import com.sun.jna.Structure.FieldOrder;

/**
 * The udmabuf UAPI of {@code <linux/udmabuf.h>}: a dma-buf made of a sealed memfd's pages. Stateless; any thread.
 */
public final class UdmabufUapi {
    /** {@code UDMABUF_FLAGS_CLOEXEC}. */
    public static final int UDMABUF_FLAGS_CLOEXEC = 0x01;
    /** {@code UDMABUF_CREATE = _IOW('u', 0x42, struct udmabuf_create)}. */
    public static final long UDMABUF_CREATE = Ioc.iow('u', 0x42, Create.class);

    /** The request as JNA passes it. */
    public static final NativeLong CREATE = Ioc.request(UDMABUF_CREATE);

    private UdmabufUapi() {
    }

    /**
     * {@code struct udmabuf_create}: which pages of which memfd. Not thread-safe: one thread fills one instance.
     *
     * <pre>
     * struct udmabuf_create {
     *     __u32 memfd;
     *     __u32 flags;
     *     __u64 offset;
     *     __u64 size;
     * };
     * </pre>
     */
    @FieldOrder({"memfd", "flags", "offset", "size"})
    public static class Create extends Structure {
        /** {@code __u32 memfd}: a memfd sealed with {@code F_SEAL_SHRINK}, not {@code F_SEAL_WRITE}. */
        public int memfd;
        /** {@code __u32 flags}: {@code UDMABUF_FLAGS_CLOEXEC}. */
        public int flags;
        /** {@code __u64 offset}: page-aligned. */
        public long offset;
        /** {@code __u64 size}: page-aligned. */
        public long size;

        /** {@code sizeof(struct udmabuf_create)}. */
        public static final int SIZE;
        /** The offset of {@code memfd}, for callers that fill a reused raw buffer instead of a new struct. */
        public static final int OFFSET_MEMFD;
        /** The offset of {@code flags}. */
        public static final int OFFSET_FLAGS;
        /** The offset of {@code offset}. */
        public static final int OFFSET_OFFSET;
        /** The offset of {@code size}. */
        public static final int OFFSET_SIZE;

        static {
            Create c = new Create();
            SIZE = c.size();
            OFFSET_MEMFD = c.fieldOffset("memfd");
            OFFSET_FLAGS = c.fieldOffset("flags");
            OFFSET_OFFSET = c.fieldOffset("offset");
            OFFSET_SIZE = c.fieldOffset("size");
        }
    }

    private static final ThreadLocal<com.sun.jna.Memory> CREATE_ARG =
            ThreadLocal.withInitial(() -> new com.sun.jna.Memory(Create.SIZE));

    /**
     * {@code UDMABUF_CREATE} through a per-thread argument buffer (no struct is made per call); the buffer stays
     * reachable until the call returns.
     *
     * @param dev the udmabuf node's fd
     * @param memfd a memfd sealed against shrinking
     * @param offset page-aligned
     * @param size page-aligned
     * @param flags {@code UDMABUF_FLAGS_CLOEXEC}
     * @param target what the node is, for errors ({@code /dev/udmabuf})
     * @return the new dma-buf's fd, owned by the caller
     * @throws LinuxException naming {@code ioctl(UDMABUF_CREATE)}, the target, the memfd, the size and errno
     *         ({@code EINVAL} for an unsealed memfd, unaligned sizes or unknown flags)
     */
    public static int create(int dev, int memfd, long offset, long size, int flags, String target) {
        com.sun.jna.Memory arg = CREATE_ARG.get();
        arg.setInt(Create.OFFSET_MEMFD, memfd);
        arg.setInt(Create.OFFSET_FLAGS, flags);
        arg.setLong(Create.OFFSET_OFFSET, offset);
        arg.setLong(Create.OFFSET_SIZE, size);
        try {
            return LibC.ioctl(dev, CREATE, arg);
        } catch (com.sun.jna.LastErrorException e) {
            throw new LinuxException("ioctl(UDMABUF_CREATE)", target + ", memfd " + memfd + ", size " + size
                    + " (fd " + dev + ")", e.getErrorCode());
        } finally {
            java.lang.ref.Reference.reachabilityFence(arg);
        }
    }
}

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
    }
}

package org.dmabuf.linux;

import com.sun.jna.NativeLong;
import com.sun.jna.Structure;
import com.sun.jna.Structure.FieldOrder;

/**
 * The dma-heap UAPI of {@code <linux/dma-heap.h>}. Stateless; any thread.
 */
public final class DmaHeapUapi {
    /** {@code DMA_HEAP_IOC_MAGIC}. */
    public static final int DMA_HEAP_IOC_MAGIC = 'H';
    /** {@code DMA_HEAP_IOCTL_ALLOC = _IOWR(DMA_HEAP_IOC_MAGIC, 0x0, struct dma_heap_allocation_data)}. */
    public static final long DMA_HEAP_IOCTL_ALLOC = Ioc.iowr(DMA_HEAP_IOC_MAGIC, 0x0, AllocationData.class);
    /** {@code DMA_HEAP_VALID_FD_FLAGS = O_CLOEXEC | O_ACCMODE}. */
    public static final int DMA_HEAP_VALID_FD_FLAGS = LibC.O_CLOEXEC | 3;

    /** The request as JNA passes it. */
    public static final NativeLong ALLOC = Ioc.request(DMA_HEAP_IOCTL_ALLOC);

    private DmaHeapUapi() {
    }

    /**
     * {@code struct dma_heap_allocation_data}: one allocation. Not thread-safe: one thread fills one instance.
     *
     * <pre>
     * struct dma_heap_allocation_data {
     *     __u64 len;
     *     __u32 fd;
     *     __u32 fd_flags;
     *     __u64 heap_flags;
     * };
     * </pre>
     */
    @FieldOrder({"len", "fd", "fd_flags", "heap_flags"})
    public static class AllocationData extends Structure {
        /** {@code __u64 len}: bytes to allocate. */
        public long len;
        /** {@code __u32 fd}: out, the new dma-buf fd. */
        public int fd;
        /** {@code __u32 fd_flags}: {@code O_RDWR | O_CLOEXEC}. */
        public int fd_flags;
        /** {@code __u64 heap_flags}: none are defined; must be 0. */
        public long heap_flags;
    }
}

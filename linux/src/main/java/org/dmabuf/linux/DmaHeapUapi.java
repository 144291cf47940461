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

        /** {@code sizeof(struct dma_heap_allocation_data)}. */
        public static final int SIZE;
        /** The offset of {@code len}, for callers that fill a reused raw buffer instead of a new struct. */
        public static final int OFFSET_LEN;
        /** The offset of {@code fd}. */
        public static final int OFFSET_FD;
        /** The offset of {@code fd_flags}. */
        public static final int OFFSET_FD_FLAGS;
        /** The offset of {@code heap_flags}. */
        public static final int OFFSET_HEAP_FLAGS;

        static {
            AllocationData d = new AllocationData();
            SIZE = d.size();
            OFFSET_LEN = d.fieldOffset("len");
            OFFSET_FD = d.fieldOffset("fd");
            OFFSET_FD_FLAGS = d.fieldOffset("fd_flags");
            OFFSET_HEAP_FLAGS = d.fieldOffset("heap_flags");
        }
    }

    private static final ThreadLocal<com.sun.jna.Memory> ALLOC_ARG =
            ThreadLocal.withInitial(() -> new com.sun.jna.Memory(AllocationData.SIZE));

    /**
     * {@code DMA_HEAP_IOCTL_ALLOC} through a per-thread argument buffer (no struct is made per call); the buffer
     * stays reachable until the call returns.
     *
     * @param heap the heap node's fd
     * @param len bytes
     * @param fdFlags {@code fd_flags}: {@code O_RDWR | O_CLOEXEC} normally
     * @param heapFlags {@code heap_flags}: 0
     * @param target what the heap is, for errors ({@code /dev/dma_heap/system})
     * @return the new dma-buf's fd, owned by the caller
     * @throws LinuxException naming {@code ioctl(DMA_HEAP_IOCTL_ALLOC)}, the target, the length and errno
     *         ({@code EINVAL} for bad flags, {@code ENOMEM} when the heap is exhausted)
     */
    public static int alloc(int heap, long len, int fdFlags, long heapFlags, String target) {
        com.sun.jna.Memory arg = ALLOC_ARG.get();
        arg.setLong(AllocationData.OFFSET_LEN, len);
        arg.setInt(AllocationData.OFFSET_FD, 0); // an out field: the kernel refuses a non-zero one (EINVAL)
        arg.setInt(AllocationData.OFFSET_FD_FLAGS, fdFlags);
        arg.setLong(AllocationData.OFFSET_HEAP_FLAGS, heapFlags);
        try {
            LibC.ioctl(heap, ALLOC, arg);
            return arg.getInt(AllocationData.OFFSET_FD);
        } catch (com.sun.jna.LastErrorException e) {
            throw new LinuxException("ioctl(DMA_HEAP_IOCTL_ALLOC)", target + ", len " + len + " (fd " + heap + ")",
                    e.getErrorCode());
        } finally {
            java.lang.ref.Reference.reachabilityFence(arg);
        }
    }
}

package org.dmabuf.linux;

import com.sun.jna.Native;
import java.util.function.Supplier;
import org.dmabuf.api.DmaBuf;

/**
 * Makes a dma-buf and a memfd with the same inode number live at once, for identity tests in the kernel guest.
 * dma-bufs take their inode numbers from {@code get_next_ino()}, memfds from the internal shm mount's counter; both
 * hand numbers out in per-CPU batches of increasing numbers. With the calling thread kept on one CPU, the counter
 * that is behind is advanced with cheap raw allocations to just below the other's number, then buffers are made
 * until the numbers meet. Shared through the core's test jar; call from one thread.
 */
public final class InodeCollision {
    /** Raw allocations tried before giving up: far more than the counters' gap in the guest. */
    private static final int BUDGET = 1_000_000;

    private InodeCollision() {
    }

    /** glibc's scheduling calls. */
    private static final class Sched {
        static {
            Native.register("c");
        }

        static native int sched_getcpu();

        static native int sched_setaffinity(int pid, long size, long[] mask);

        static native int sched_getaffinity(int pid, long size, long[] mask);
    }

    /** One side: how to make a buffer of it, and how to advance its counter by one without keeping anything. */
    public record Side(Supplier<DmaBuf> make, Runnable advance) {
    }

    /** A raw memfd, made and closed: advances the shm counter. */
    public static void advanceMemfd() {
        Sys.memfd("advance", 0).close();
    }

    /** A raw system-heap dma-buf, made and closed: advances {@code get_next_ino()}. */
    public static void advanceDmaBuf() {
        try (Fd heap = Sys.open("/dev/dma_heap/system", LibC.O_RDONLY)) {
            DmaHeapUapi.AllocationData d = new DmaHeapUapi.AllocationData();
            d.len = 4096;
            d.fd_flags = LibC.O_RDWR | LibC.O_CLOEXEC;
            Sys.ioctl(heap.get(), DmaHeapUapi.ALLOC, "DMA_HEAP_IOCTL_ALLOC", "/dev/dma_heap/system", d);
            new Fd(d.fd, "advance").close();
        }
    }

    /**
     * Makes one buffer of each side with the same inode number.
     *
     * @param memfd the memfd side
     * @param dmabuf the dma-buf side
     * @return {memfd buffer, dma-buf buffer}, owned by the caller
     * @throws AssertionError if the numbers did not meet within the budget
     */
    public static DmaBuf[] make(Side memfd, Side dmabuf) {
        long[] saved = new long[16];
        if (Sched.sched_getaffinity(0, saved.length * 8L, saved) != 0) {
            throw new AssertionError("sched_getaffinity failed");
        }
        long[] one = new long[16];
        int cpu = Sched.sched_getcpu();
        one[cpu / 64] = 1L << (cpu % 64);
        if (Sched.sched_setaffinity(0, one.length * 8L, one) != 0) {
            throw new AssertionError("sched_setaffinity to CPU " + cpu + " failed");
        }
        DmaBuf m = null;
        DmaBuf d = null;
        try {
            m = memfd.make().get();
            d = dmabuf.make().get();
            int tries = 0;
            while (m.inode() != d.inode()) {
                if (tries++ > BUDGET) {
                    throw new AssertionError("no memfd and dma-buf met on an inode number in " + BUDGET
                            + " allocations (memfd " + m.inode() + ", dma-buf " + d.inode() + ")");
                }
                if (m.inode() < d.inode()) {
                    for (long ino = m.inode(); ino + 2 < d.inode() && tries < BUDGET; tries++, ino++) {
                        memfd.advance().run();
                    }
                    DmaBuf next = memfd.make().get();
                    m.close();
                    m = next;
                } else {
                    for (long ino = d.inode(); ino + 2 < m.inode() && tries < BUDGET; tries++, ino++) {
                        dmabuf.advance().run();
                    }
                    DmaBuf next = dmabuf.make().get();
                    d.close();
                    d = next;
                }
            }
            DmaBuf[] both = {m, d};
            m = null;
            d = null;
            return both;
        } finally {
            Sched.sched_setaffinity(0, saved.length * 8L, saved);
            if (m != null) {
                m.close();
            }
            if (d != null) {
                d.close();
            }
        }
    }
}

package org.dmabuf.exporter.heap;

import java.util.HashMap;
import java.util.Map;
import org.dmabuf.api.BufferKind;
import org.dmabuf.linux.DmaHeapUapi;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Sys;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;

/**
 * A dma-heap ({@code /dev/dma_heap/NAME}) as an exporter: {@code DMA_HEAP_IOCTL_ALLOC} gives a dma-buf fd whose
 * fdinfo {@code exp_name:} is the heap's name. A heap whose name says CMA or reserved memory is physically
 * contiguous; one whose name says uncached is uncached.
 *
 * <p>Thread-safe: the kernel serialises allocations on the heap fd; any thread may allocate.
 * {@link #close()} closes the heap node; buffers already allocated stay valid.
 */
final class DmaHeapExporter implements DmaBufExporter, AutoCloseable {
    private final Fd heap;
    private final String path;
    private final String name;
    /** What the buffers' fds are, shared by all of them. */
    private final String fdWhat;

    /**
     * Opens a heap node.
     *
     * @param path for example {@code /dev/dma_heap/system}
     * @throws org.dmabuf.linux.LinuxException naming {@code open}, the path and errno ({@code EACCES}: see the
     *         README on permissions)
     */
    DmaHeapExporter(String path) {
        this.path = path;
        this.name = path.substring(path.lastIndexOf('/') + 1);
        this.fdWhat = "dma-buf from " + path;
        this.heap = Sys.open(path, LibC.O_RDONLY);
    }

    String heapName() {
        return name;
    }

    boolean contiguous() {
        String n = name.toLowerCase(java.util.Locale.ROOT);
        return n.contains("cma") || n.contains("reserved") || n.contains("contig");
    }

    boolean uncached() {
        return name.toLowerCase(java.util.Locale.ROOT).contains("uncached");
    }

    /**
     * The service properties this heap registers with.
     *
     * @param ranking the {@code service.ranking}
     * @return the properties
     */
    Map<String, Object> properties(int ranking) {
        Map<String, Object> p = new HashMap<>();
        p.put(NAME, name);
        p.put(EXP_NAME, name);
        p.put(KIND, KIND_DMA_BUF);
        p.put(CONTIGUOUS, contiguous());
        p.put(UNCACHED, uncached());
        p.put(DEV_PATH, path);
        p.put(MAX_SIZE, MEMORY);
        p.put(org.osgi.framework.Constants.SERVICE_RANKING, ranking);
        return p;
    }

    /**
     * The machine's memory ({@code MemTotal} of {@code /proc/meminfo}), the largest buffer a heap could ever make: a
     * heap takes every page it can before it fails, so a larger request would have the kernel's OOM killer end this
     * process rather than fail. {@code Long.MAX_VALUE} where meminfo cannot be read.
     */
    static final long MEMORY = memTotal();

    private static long memTotal() {
        try {
            for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/meminfo"))) {
                if (l.startsWith("MemTotal:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // no meminfo: no limit
        }
        return Long.MAX_VALUE;
    }

    @Override
    public ExportedBuffer allocate(AllocationRequest request) {
        Fd fd = allocateFd(request.size(), LibC.O_RDWR | LibC.O_CLOEXEC, 0);
        return new FdBuffer(fd, request.size(), BufferKind.DMA_BUF);
    }

    /**
     * {@code DMA_HEAP_IOCTL_ALLOC} with the caller's flags, as the kernel's selftest calls it.
     *
     * @param len bytes
     * @param fdFlags {@code fd_flags}: {@code O_RDWR | O_CLOEXEC} normally
     * @param heapFlags {@code heap_flags}: 0, no others are defined
     * @return the new dma-buf fd, owned by the caller
     * @throws org.dmabuf.linux.LinuxException naming the ioctl, the heap path and errno ({@code EINVAL} for bad
     *         flags, {@code ENOMEM} when the heap is exhausted)
     */
    Fd allocateFd(long len, int fdFlags, long heapFlags) {
        return new Fd(DmaHeapUapi.alloc(heap.get(), len, fdFlags, heapFlags, path), fdWhat);
    }

    @Override
    public ExportedBuffer adopt(int fd, long size) {
        return FdBuffer.adopt(fd, size, BufferKind.DMA_BUF);
    }

    @Override
    public void close() {
        heap.close();
    }

    @Override
    public String toString() {
        return "dma-heap " + path;
    }
}

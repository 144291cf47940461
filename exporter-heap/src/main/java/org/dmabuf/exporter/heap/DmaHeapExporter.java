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
 * fdinfo {@code exp_name:} is the kernel's name of the heap. The heap is classified by that name ({@link HeapNames}:
 * contiguous? uncached? where in the preference?), which the kernel gives through sysfs for the node's device number:
 * a node made with mknod or renamed by a udev symlink keeps the kernel's name whatever its file is called. Where the
 * two differ it is said once in the log; the service's {@link #NAME} is the node's file name, its {@link #EXP_NAME}
 * the kernel's name.
 *
 * <p>Thread-safe: the kernel serialises allocations on the heap fd; any thread may allocate.
 * {@link #close()} closes the heap node; buffers already allocated stay valid.
 */
final class DmaHeapExporter implements DmaBufExporter, AutoCloseable {
    private static final System.Logger LOG = System.getLogger("org.dmabuf.exporter.heap");

    /** The node/kernel-name differences already logged, so that each is said once in a JVM. */
    private static final java.util.Set<String> SAID = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final Fd heap;
    private final String path;
    private final String name;
    /** The kernel's name of the heap: what fdinfo's exp_name says of its buffers. */
    private final String kernelName;
    /** What the heap is, by the kernel's name. */
    private final HeapNames.Heap classified;
    /** What the buffers' fds are, shared by all of them. */
    private final String fdWhat;

    /**
     * Opens a heap node, classified by the table alone.
     *
     * @param path for example {@code /dev/dma_heap/system}
     * @throws org.dmabuf.linux.LinuxException naming {@code open}, the path and errno ({@code EACCES}: see the
     *         README on permissions)
     */
    DmaHeapExporter(String path) {
        this(path, HeapNames.DEFAULT);
    }

    /**
     * Opens a heap node and finds the kernel's name for it.
     *
     * @param path for example {@code /dev/dma_heap/system}
     * @param names the table and the configured names
     * @throws org.dmabuf.linux.LinuxException naming {@code open}, the path and errno ({@code EACCES}: see the
     *         README on permissions)
     */
    DmaHeapExporter(String path, HeapNames names) {
        this.path = path;
        this.name = path.substring(path.lastIndexOf('/') + 1);
        this.fdWhat = "dma-buf from " + path;
        this.heap = Sys.open(path, LibC.O_RDONLY);
        java.util.Optional<HeapNames.KernelNode> node = HeapNames.kernelNode(heap.get());
        if (node.isPresent() && node.get().isHeap()) {
            this.kernelName = node.get().name();
            if (!kernelName.equals(name)) {
                say(path + " is the kernel's dma-heap '" + kernelName + "' (sysfs /sys/dev/char): classified as '"
                        + kernelName + "' (its buffers' exp_name), not by the node's name '" + name + "'");
            }
        } else {
            this.kernelName = name;
            say(path + (node.isPresent() ? " is not a dma-heap: sysfs says it is " + node.get().subsystem() + "/"
                    + node.get().name() : " has no dma-heap in /sys/dev/char for its device number")
                    + ": classified by its file name");
        }
        this.classified = names.classify(kernelName);
    }

    private void say(String what) {
        if (SAID.add(what)) {
            LOG.log(System.Logger.Level.INFO, what);
        }
    }

    /** @return the node's file name (the service's {@link #NAME}) */
    String heapName() {
        return name;
    }

    /** @return the kernel's name of the heap (the service's {@link #EXP_NAME}) */
    String kernelName() {
        return kernelName;
    }

    /** @return what the heap is, by the kernel's name */
    HeapNames.Heap heap() {
        return classified;
    }

    boolean contiguous() {
        return classified.contiguous();
    }

    boolean uncached() {
        return classified.uncached();
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
        p.put(EXP_NAME, kernelName);
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

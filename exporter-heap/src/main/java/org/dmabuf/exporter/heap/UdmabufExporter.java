package org.dmabuf.exporter.heap;

import java.util.HashMap;
import java.util.Map;
import org.dmabuf.api.BufferKind;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Sys;
import org.dmabuf.linux.UdmabufUapi;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;

/**
 * udmabuf ({@code /dev/udmabuf}) as an exporter: a memfd sealed against shrinking is turned into a dma-buf with
 * {@code UDMABUF_CREATE}; the dma-buf holds the pages, so the memfd is closed at once. fdinfo names it
 * {@code udmabuf}. Not contiguous.
 *
 * <p>Thread-safe: any thread may allocate. {@link #close()} closes the node; buffers stay valid.
 */
final class UdmabufExporter implements DmaBufExporter, AutoCloseable {
    static final String NAME_VALUE = "udmabuf";
    private final Fd dev;
    private final String path;
    /** What the buffers' fds are, shared by all of them. */
    private final String fdWhat;

    /**
     * Opens the udmabuf node.
     *
     * @param path normally {@code /dev/udmabuf}
     * @throws org.dmabuf.linux.LinuxException naming {@code open}, the path and errno
     */
    UdmabufExporter(String path) {
        this.path = path;
        this.fdWhat = "dma-buf from " + path;
        this.dev = Sys.open(path, LibC.O_RDWR);
    }

    Map<String, Object> properties(int ranking) {
        Map<String, Object> p = new HashMap<>();
        p.put(NAME, NAME_VALUE);
        p.put(EXP_NAME, NAME_VALUE);
        p.put(KIND, KIND_DMA_BUF);
        p.put(CONTIGUOUS, false);
        p.put(DEV_PATH, path);
        p.put(org.osgi.framework.Constants.SERVICE_RANKING, ranking);
        return p;
    }

    @Override
    public ExportedBuffer allocate(AllocationRequest request) {
        long size = MemfdExporter.pageAlign(request.size());
        try (Fd memfd = MemfdExporter.sealedMemfd(MemfdExporter.memfdName("udmabuf:", request.name()), size,
                LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW)) {
            Fd dmabuf = create(memfd.get(), 0, size, UdmabufUapi.UDMABUF_FLAGS_CLOEXEC);
            return new FdBuffer(dmabuf, size, BufferKind.DMA_BUF);
        }
    }

    /**
     * {@code UDMABUF_CREATE} with the caller's arguments, as the kernel's selftest calls it.
     *
     * @param memfd a memfd sealed against shrinking
     * @param offset page-aligned
     * @param size page-aligned
     * @param flags {@code UDMABUF_FLAGS_CLOEXEC}
     * @return the dma-buf fd, owned by the caller
     * @throws org.dmabuf.linux.LinuxException naming the ioctl, the node and errno ({@code EINVAL} for an
     *         unsealed memfd, unaligned sizes or unknown flags)
     */
    Fd create(int memfd, long offset, long size, int flags) {
        return new Fd(UdmabufUapi.create(dev.get(), memfd, offset, size, flags, path), fdWhat);
    }

    @Override
    public ExportedBuffer adopt(int fd, long size) {
        return FdBuffer.adopt(fd, size, BufferKind.DMA_BUF);
    }

    @Override
    public void close() {
        dev.close();
    }

    @Override
    public String toString() {
        return "udmabuf " + path;
    }
}

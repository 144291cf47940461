package org.dmabuf.spi;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * An exporter: a service that allocates buffer storage, as a dma-heap or a DRM driver does. Its capabilities are
 * typed service properties, named by the constants below, so that the core can choose an exporter for late
 * allocation without calling it. Exporters are tried in {@code service.ranking} order (highest first), then by
 * {@code service.id} (oldest first).
 *
 * <pre>{@code
 * @Component(property = {
 *     DmaBufExporter.NAME + "=system",
 *     DmaBufExporter.EXP_NAME + "=system",
 *     DmaBufExporter.KIND + "=" + DmaBufExporter.KIND_DMA_BUF,
 *     DmaBufExporter.CONTIGUOUS + ":Boolean=false",
 *     "service.ranking:Integer=300"})
 * public class SystemHeapExporter implements DmaBufExporter { ... }
 * }</pre>
 *
 * <p>Threads: the core calls {@link #allocate} and {@link #adopt} from any thread, concurrently; implementations
 * must be thread-safe. An exporter that goes away leaves the buffers it made valid until they are released: its
 * {@link ExportedBuffer}s must keep working after the service is unregistered.
 */
@ConsumerType
public interface DmaBufExporter {
    /** Service property (String, required): the exporter's unique name, for example {@code system} or {@code memfd}. */
    String NAME = "dmabuf.exporter.name";

    /**
     * Service property (String): the {@code exp_name:} the kernel shows in {@code /proc/self/fdinfo} for this
     * exporter's buffers ({@code system}, {@code udmabuf}, {@code drm}, {@code videobuf2_vmalloc}); used to adopt
     * received fds. Absent for exporters whose buffers are not dma-bufs.
     */
    String EXP_NAME = "dmabuf.exporter.exp_name";

    /** Service property (String): {@link #KIND_DMA_BUF} or {@link #KIND_MEMFD}; {@code dma-buf} if absent. */
    String KIND = "dmabuf.exporter.kind";

    /** Value of {@link #KIND}: real dma-bufs that devices can import. */
    String KIND_DMA_BUF = "dma-buf";

    /** Value of {@link #KIND}: sealed memfds, shareable between processes, not importable by devices. */
    String KIND_MEMFD = "memfd";

    /** Service property (Boolean): every buffer is physically contiguous (a CMA heap); false if absent. */
    String CONTIGUOUS = "dmabuf.exporter.contiguous";

    /** Service property (Boolean): buffers are mapped uncached / write-combined; false if absent. */
    String UNCACHED = "dmabuf.exporter.uncached";

    /** Service property (Long): the largest buffer, in bytes, it allocates; unlimited if absent. */
    String MAX_SIZE = "dmabuf.exporter.max.size";

    /** Service property (Long): the alignment every buffer's start has; the page size (4096) if absent. */
    String ALIGNMENT = "dmabuf.exporter.alignment";

    /**
     * Service property (Long): the smallest segment a non-contiguous buffer may be split into, which bounds the
     * segment count a mapping may need; the page size (4096) if absent.
     */
    String SEGMENT_SIZE = "dmabuf.exporter.segment.size";

    /** Service property (String): the device node the exporter serves, for exporters backed by one. */
    String DEV_PATH = "dev.path";

    /**
     * Allocates storage: the exporter's {@code DMA_HEAP_IOCTL_ALLOC}. The request's constraints merge those of
     * every device attached so far; the core only calls exporters whose properties satisfy them.
     *
     * @param request size, name, format and the merged constraints
     * @return the new storage, owned by the core from now on
     * @throws org.dmabuf.api.DmaBufException naming the call and errno if allocation fails; nothing may leak
     */
    ExportedBuffer allocate(AllocationRequest request);

    /**
     * Adopts a received fd whose fdinfo {@code exp_name:} is this exporter's {@link #EXP_NAME}: wraps a duplicate
     * of it with this exporter's ops. The default refuses, and the core falls back to mmap and sync only.
     *
     * @param fd the received fd; the caller keeps it, the exporter duplicates it if it adopts
     * @param size the buffer's size from fdinfo
     * @return the adopted storage, owned by the core
     * @throws UnsupportedOperationException if this exporter does not adopt
     */
    default ExportedBuffer adopt(int fd, long size) {
        throw new UnsupportedOperationException("adopt");
    }
}

package org.dmabuf.examples.hugetlb;

import java.util.LinkedHashMap;
import java.util.Map;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.Mapping;
import org.dmabuf.linux.Sys;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;
import org.dmabuf.spi.MappedMemory;

/**
 * Buffers of huge pages: a memfd on the kernel's hugetlbfs ({@code memfd_create(MFD_HUGETLB)}), its size rounded up
 * to whole huge pages, its pages taken from the pool at allocation ({@code fallocate}) and sealed against shrinking,
 * growing and further sealing, as the sealed-memfd exporter of {@code org.dmabuf.exporter.heap} seals its memfds.
 * Shareable and mappable like any memfd (a peer that maps it gets the same huge pages: one TLB entry per 2 MB), but
 * not a dma-buf: no device imports it, and CPU access needs no sync.
 *
 * <p>Where the pool has too few free pages, {@link #allocate} fails with a {@link LinuxException} that names
 * {@code fallocate}, the memfd, the size, {@code ENOSPC}, the pool's counters and the command that fills it; nothing
 * is left open. Taking the pages at allocation is what makes the buffer safe: a hugetlbfs mapping made with
 * {@code MAP_NORESERVE}, or a file whose pages were never reserved, gets {@code SIGBUS} on a fault that finds the
 * pool empty, and a plain {@code mmap} of it fails with {@code ENOMEM}.
 *
 * <p>Stateless but for its configuration; any thread may allocate and adopt, concurrently.
 */
final class HugetlbExporter implements DmaBufExporter {
    /** The seals every buffer gets: its size is fixed, and so are its seals. */
    static final int SEALS = LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW | LibC.F_SEAL_SEAL;
    /** The prefix of the memfds' names in {@code /proc/<pid>/fd} and {@code /proc/<pid>/maps}. */
    static final String PREFIX = "dmabuf-hugetlb:";

    private final String name;
    private final HugePages pool;
    private final int memfdFlags;

    /**
     * An exporter of one pool's pages.
     *
     * @param name the exporter's service name ({@link DmaBufExporter#NAME})
     * @param pool the pool
     */
    HugetlbExporter(String name, HugePages pool) {
        this.name = name;
        this.pool = pool;
        this.memfdFlags = LibC.MFD_ALLOW_SEALING | pool.memfdFlags(); // Sys.memfd adds MFD_CLOEXEC
    }

    /**
     * The service properties: a memfd exporter whose buffers start and split at huge page boundaries.
     *
     * @param ranking {@code service.ranking}; below the sealed memfd's 100 by default, so that it is only chosen
     *        when asked for by name or configured higher
     * @return the properties
     */
    Map<String, Object> properties(int ranking) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put(NAME, name);
        p.put(KIND, KIND_MEMFD);
        p.put(CONTIGUOUS, false); // each huge page is contiguous, the buffer is not
        p.put(ALIGNMENT, pool.pageSize());
        p.put(SEGMENT_SIZE, pool.pageSize());
        p.put("hugetlb.page.size", pool.pageSize());
        p.put("service.ranking", ranking);
        return p;
    }

    /**
     * The pool it allocates from.
     *
     * @return the pool
     */
    HugePages pool() {
        return pool;
    }

    /**
     * A size rounded up to whole huge pages.
     *
     * @param size bytes, greater than zero
     * @return bytes, a multiple of the page size
     * @throws InvalidArgumentException ({@code EINVAL}) naming the size if the rounded size does not fit a long
     */
    long roundUp(long size) {
        long page = pool.pageSize();
        if (size > Long.MAX_VALUE - page + 1) {
            throw new InvalidArgumentException("allocate", "size " + size + " cannot be rounded up to "
                    + HugePages.label(page) + " pages");
        }
        return (size + page - 1) & -page;
    }

    /**
     * Allocates a sealed huge-page memfd of the request's size rounded up to whole pages, its pages taken now.
     *
     * @throws LinuxException naming {@code memfd_create}, {@code ftruncate}, {@code fallocate} or
     *         {@code fcntl(F_ADD_SEALS)}, the memfd, the size and errno; for an empty pool ({@code ENOSPC}) also the
     *         pool's counters and how to fill it. The memfd is closed, so every page it took goes back to the pool.
     */
    @Override
    public ExportedBuffer allocate(AllocationRequest request) {
        long size = roundUp(request.size());
        Fd fd = memfd(request.name());
        try {
            Sys.ftruncate(fd.get(), size); // sizes the file; takes no page yet
            try {
                HugetlbLibC.fallocate(fd.get(), size, fd.what() + " (fd " + fd.get() + "), size " + size);
            } catch (LinuxException e) {
                throw e.errnoValue() == Errno.ENOSPC || e.errnoValue() == Errno.ENOMEM
                        ? new LinuxException(e.call(), e.target(), e.errnoValue(), pool.advice(size / pool.pageSize()))
                        : e;
            }
            Sys.fcntl(fd.get(), LibC.F_ADD_SEALS, "F_ADD_SEALS", SEALS);
            return new HugetlbBuffer(fd, size, pool);
        } catch (RuntimeException e) {
            fd.close(); // hands back the pages fallocate took before it failed
            throw e;
        }
    }

    private Fd memfd(String bufferName) {
        String n = PREFIX.length() + bufferName.length() > 200 ? bufferName.substring(0, 200 - PREFIX.length())
                : bufferName;
        try {
            return Sys.memfd(PREFIX, n, memfdFlags);
        } catch (LinuxException e) {
            // ENODEV: no pool of this page size; EINVAL: a kernel without hugetlbfs
            throw new LinuxException(e.call(), e.target() + " (" + HugePages.label(pool.pageSize()) + " pages)",
                    e.errnoValue(), e.errnoValue() == Errno.ENODEV || e.errnoValue() == Errno.EINVAL
                            ? "the kernel has no " + HugePages.label(pool.pageSize()) + " huge page pool" : "");
        }
    }

    /**
     * Adopts a received memfd of this exporter's pool (hugetlbfs, the same page size), sealed as
     * {@link FdBuffer#adoptSealedMemfd} seals it; any other fd is left to the next memfd exporter.
     *
     * @throws UnsupportedOperationException if the fd is not a hugetlbfs file of this page size
     * @throws LinuxException {@code EPERM} naming the fd if it cannot be sealed
     */
    @Override
    public ExportedBuffer adopt(int fd, long size) {
        long[] fs = HugetlbLibC.fstatfs(fd);
        if (fs[0] != HugetlbLibC.HUGETLBFS_MAGIC || fs[1] != pool.pageSize()) {
            throw new UnsupportedOperationException("adopt: fd " + fd + " is not a memfd of "
                    + HugePages.label(pool.pageSize()) + " huge pages");
        }
        return FdBuffer.adoptSealedMemfd(fd);
    }

    @Override
    public String toString() {
        return name + ": sealed memfds of " + pool;
    }

    /**
     * One huge-page memfd: {@link FdBuffer}'s ops (mmap of the fd, no sync, release closes the fd), with a mapping
     * error that says which pool ran out.
     *
     * <p>Threads: as {@link ExportedBuffer}.
     */
    static final class HugetlbBuffer extends FdBuffer {
        private final HugePages pool;

        /**
         * Takes ownership of a huge-page memfd whose pages are taken.
         *
         * @param fd the memfd, closed by {@link #release()} (or here, if its size cannot be read)
         * @param size its size, whole pages
         * @param pool the pool its pages came from, for errors
         */
        HugetlbBuffer(Fd fd, long size, HugePages pool) {
            super(fd, size, BufferKind.MEMFD);
            this.pool = pool;
        }

        /**
         * Maps the buffer; its pages were taken at allocation, so the mapping needs no more of the pool.
         *
         * @throws LinuxException naming {@code mmap}, the fd, the size and errno; for {@code ENOMEM} also the pool
         */
        @Override
        public MappedMemory mmap() {
            try {
                return Mapping.map(fd.get(), size, fd.what());
            } catch (LinuxException e) {
                throw e.errnoValue() == Errno.ENOMEM
                        ? new LinuxException(e.call(), e.target(), e.errnoValue(), pool.advice(size / pool.pageSize()))
                        : e;
            }
        }
    }
}

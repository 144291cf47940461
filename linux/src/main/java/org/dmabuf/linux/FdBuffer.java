package org.dmabuf.linux;

import java.util.ArrayList;
import java.util.List;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.DmaDirection;
import org.dmabuf.api.Segment;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.spi.ExportedBuffer;
import org.dmabuf.spi.MappedMemory;

/**
 * Storage backed by one owned fd, with the ops every fd-backed exporter shares: {@code mmap} of the fd,
 * {@code DMA_BUF_IOCTL_SYNC} around CPU access and {@code DMA_BUF_SET_NAME} for dma-bufs, and for software devices a
 * scatterlist of buffer offsets split at the device's maximum segment size. Exporters extend it for their own
 * release or attach ops.
 *
 * <p>Threads: as {@link ExportedBuffer}: the core serialises the ops of one buffer, but CPU-access syncs may run
 * concurrently.
 */
public class FdBuffer implements ExportedBuffer {
    /** The fd, owned by this buffer. */
    protected final Fd fd;
    /** The identity of the fd's file: ({@code st_dev}, {@code st_ino}). */
    protected final org.dmabuf.api.BufferId id;
    /** The size in bytes, as the kernel reports it ({@link Sys#sizeOf}). */
    protected final long size;
    /** What kind of object the fd is. */
    protected final BufferKind kind;

    /**
     * Takes ownership of an fd. The size is the kernel's ({@link Sys#sizeOf}: heaps round a request up to pages),
     * which must be at least {@code minSize}.
     *
     * @param fd the fd; closed by {@link #release()}
     * @param minSize the size asked for; the kernel's size may be larger
     * @param kind what the fd is
     * @throws LinuxException if {@code statx} (or {@code lseek}, see {@link Sys#sizeOf(int, BufferKind, FileStat)})
     *         of the fd fails, or {@code EINVAL} if the kernel's
     *         size is smaller than {@code minSize}; the fd is closed then
     */
    public FdBuffer(Fd fd, long minSize, BufferKind kind) {
        this.fd = fd;
        this.kind = kind;
        try {
            FileStat st = Sys.fstat(fd.get());
            this.id = st.id();
            // one statx gives identity and size: a dma-buf's inode has the buffer's size (no lseek needed)
            this.size = Sys.sizeOf(fd.get(), kind, st);
            if (size < minSize) {
                throw new LinuxException("FdBuffer", fd.what() + ": the kernel reports " + size
                        + " bytes, fewer than the " + minSize + " expected", Errno.EINVAL);
            }
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    /**
     * Adopts a received fd: duplicates it, so the caller keeps its own.
     *
     * @param fd the received fd
     * @param size the buffer's size (fdinfo {@code size:} or the memfd's size)
     * @param kind what the fd is
     * @return storage owning the duplicate
     * @throws LinuxException naming the call and errno if the fd cannot be duplicated
     */
    public static FdBuffer adopt(int fd, long size, BufferKind kind) {
        return new FdBuffer(Sys.dup(fd, kind == BufferKind.MEMFD ? "memfd adopted from fd " : "dma-buf adopted from fd ",
                fd), size, kind);
    }

    /**
     * Adopts a received memfd: duplicates it first, seals the duplicate against shrinking and growing if the sender
     * did not (refusing it if it can no longer be sealed), and only then measures it, so that a peer that shrinks
     * the file until the seal lands cannot leave a recorded size larger than the file (reading past its end would
     * be a SIGBUS).
     *
     * @param fd the received memfd; the caller keeps it
     * @return storage owning a sealed duplicate, of the size the file has once sealed
     * @throws LinuxException {@code EPERM} naming the fd if it cannot be sealed; nothing leaks
     */
    public static FdBuffer adoptSealedMemfd(int fd) {
        Fd dup = Sys.dup(fd, "memfd adopted from fd ", fd);
        try {
            sealAgainstResize(dup.get(), "adopt", "memfd fd " + fd);
        } catch (RuntimeException e) {
            dup.close();
            throw e;
        }
        return new FdBuffer(dup, 0, BufferKind.MEMFD);
    }

    /**
     * Makes sure a memfd is sealed with {@code F_SEAL_SHRINK | F_SEAL_GROW}, adding the seals it lacks.
     *
     * @param fd the memfd
     * @param call the call to name in an error
     * @throws LinuxException {@code EPERM} naming the fd if it lacks the seals and can no longer get them
     */
    public static void sealAgainstResize(int fd, String call) {
        sealAgainstResize(fd, call, "memfd fd " + fd);
    }

    private static void sealAgainstResize(int fd, String call, String what) {
        int seals = fcntl(fd, LibC.F_GET_SEALS, "F_GET_SEALS", 0, what);
        int missing = (LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW) & ~seals;
        if (missing != 0) {
            if ((seals & LibC.F_SEAL_SEAL) != 0) {
                throw new LinuxException(call, what + " is not sealed against shrink and grow and "
                        + "can no longer be (F_SEAL_SEAL): a peer could truncate it under a reader", Errno.EPERM);
            }
            fcntl(fd, LibC.F_ADD_SEALS, "F_ADD_SEALS", missing, what);
        }
    }

    /** {@link Sys#fcntl} whose error names the memfd as the caller knows it (the fd it gave), not only the dup. */
    private static int fcntl(int fd, int cmd, String cmdName, int arg, String what) {
        try {
            return Sys.fcntl(fd, cmd, cmdName, arg);
        } catch (LinuxException e) {
            throw new LinuxException(e.call(), what.equals("memfd fd " + fd) ? e.target()
                    : what + " (" + e.target() + ")", e.errnoValue());
        }
    }

    @Override
    public int fd() {
        return fd.get();
    }

    @Override
    public long inode() {
        return id.inode();
    }

    /**
     * The identity of the fd's file, as {@code statx} reported it when this buffer took the fd.
     *
     * @return ({@code st_dev}, {@code st_ino})
     */
    public final org.dmabuf.api.BufferId id() {
        return id;
    }

    /**
     * The size the kernel reported for the fd when this buffer took it ({@link Sys#sizeOf}); {@link #size()} may
     * be overridden, this may not.
     *
     * @return bytes
     */
    public final long kernelSize() {
        return size;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public BufferKind kind() {
        return kind;
    }

    /**
     * A software device's view: buffer offsets, split where the device's maximum segment size says.
     *
     * @param attachment the attachment
     * @param direction the direction
     * @return the segments
     */
    @Override
    public List<Segment> mapDmaBuf(Attachment attachment, DmaDirection direction) {
        return softwareSegments(size, attachment.device().constraints().maxSegmentSize());
    }

    /**
     * Offsets {@code [0, size)} split into segments of at most {@code maxSegment} bytes.
     *
     * @param size bytes
     * @param maxSegment the largest segment
     * @return the segments, in order
     */
    public static List<Segment> softwareSegments(long size, long maxSegment) {
        List<Segment> out = new ArrayList<>((int) Math.min(1024, (size + maxSegment - 1) / maxSegment));
        for (long off = 0; off < size; off += maxSegment) {
            out.add(new Segment(off, Math.min(maxSegment, size - off)));
        }
        return out;
    }

    @Override
    public MappedMemory mmap() {
        return Mapping.map(fd.get(), size, fd.what());
    }

    @Override
    public void beginCpuAccess(SyncDirection direction) {
        if (kind == BufferKind.DMA_BUF) {
            DmaBufUapi.sync(fd.get(), false, direction);
        }
    }

    @Override
    public void endCpuAccess(SyncDirection direction) {
        if (kind == BufferKind.DMA_BUF) {
            DmaBufUapi.sync(fd.get(), true, direction);
        }
    }

    @Override
    public void setName(String name) {
        if (kind == BufferKind.DMA_BUF) {
            DmaBufUapi.setName(fd.get(), name);
        }
    }

    @Override
    public void release() {
        fd.close();
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + fd + ", inode " + id.inode() + ", " + size + " bytes]";
    }
}

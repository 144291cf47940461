package org.dmabuf.exporter.heap;

import java.util.HashMap;
import java.util.Map;
import org.dmabuf.api.BufferKind;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.Sys;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;

/**
 * The embedded default where the kernel has neither dma-heaps nor udmabuf: a memfd sealed against shrinking and
 * growing (and against further sealing), so no process it is shared with can truncate it and SIGBUS a reader.
 * Real fds, shareable and mappable; reported honestly as {@code memfd}, not as a dma-buf: no device can import it
 * and it has no {@code DMA_BUF_IOCTL_SYNC} (CPU access needs none).
 *
 * <p>Stateless; any thread may allocate.
 */
final class MemfdExporter implements DmaBufExporter {
    static final String NAME_VALUE = "memfd";
    static final int SEALS = LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW | LibC.F_SEAL_SEAL;
    private static final long PAGE = 4096;

    static Map<String, Object> properties(int ranking) {
        Map<String, Object> p = new HashMap<>();
        p.put(NAME, NAME_VALUE);
        p.put(KIND, KIND_MEMFD);
        p.put(CONTIGUOUS, false);
        p.put(org.osgi.framework.Constants.SERVICE_RANKING, ranking);
        return p;
    }

    static long pageAlign(long size) {
        return (size + PAGE - 1) & -PAGE;
    }

    /**
     * The memfd's name: the prefix alone (a shared string) for an unnamed buffer, else the prefix and the buffer's
     * name, at most 200 characters (the kernel takes 249 bytes).
     */
    static String memfdName(String prefix, String name) {
        if (name.isEmpty()) {
            return prefix;
        }
        String n = prefix + name;
        return n.length() > 200 ? n.substring(0, 200) : n;
    }

    /**
     * A memfd of {@code size} bytes with these seals.
     *
     * @throws LinuxException naming the call and errno; nothing is left open
     */
    static Fd sealedMemfd(String name, long size, int seals) {
        return sealed(Sys.memfd(name, LibC.MFD_ALLOW_SEALING), size, seals);
    }

    /**
     * A memfd named {@code prefix + name} (the name cut at 200 characters) of {@code size} bytes with these seals;
     * its description keeps the caller's strings (nothing per buffer on the heap).
     */
    static Fd sealedMemfd(String prefix, String name, long size, int seals) {
        String n = prefix.length() + name.length() > 200 ? name.substring(0, 200 - prefix.length()) : name;
        return sealed(Sys.memfd(prefix, n, LibC.MFD_ALLOW_SEALING), size, seals);
    }

    private static Fd sealed(Fd fd, long size, int seals) {
        try {
            Sys.ftruncate(fd.get(), size);
            Sys.fcntl(fd.get(), LibC.F_ADD_SEALS, "F_ADD_SEALS", seals);
            return fd;
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    @Override
    public ExportedBuffer allocate(AllocationRequest request) {
        long size = pageAlign(request.size());
        return new FdBuffer(sealedMemfd("dmabuf:", request.name(), size, SEALS), size, BufferKind.MEMFD);
    }

    /**
     * Adopts a received memfd once it is sealed against shrinking and growing: seals it if the sender did not
     * (and still can be), refuses it otherwise.
     *
     * @throws LinuxException {@code EPERM} naming the fd if it cannot be sealed
     */
    @Override
    public ExportedBuffer adopt(int fd, long size) {
        return FdBuffer.adoptSealedMemfd(fd);
    }

    @Override
    public String toString() {
        return "sealed memfd";
    }
}

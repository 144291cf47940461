package org.dmabuf.gateway;

import java.util.HashMap;
import java.util.Map;
import org.dmabuf.api.BufferKind;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Sys;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;

/**
 * Sealed memfds for the gateway's in-process tests, as the heap bundle's memfd exporter makes them (that one is
 * private to its bundle), counting them. Thread-safe.
 */
final class MemfdTestExporter implements DmaBufExporter {
    /** Buffers allocated so far. */
    final java.util.concurrent.atomic.AtomicInteger allocated = new java.util.concurrent.atomic.AtomicInteger();

    static Map<String, Object> properties(String name) {
        Map<String, Object> p = new HashMap<>();
        p.put(NAME, name);
        p.put(KIND, KIND_MEMFD);
        p.put("service.ranking", 100);
        return p;
    }

    @Override
    public ExportedBuffer allocate(AllocationRequest request) {
        allocated.incrementAndGet();
        long size = (request.size() + 4095) & -4096L;
        Fd fd = Sys.memfd("test-" + request.name(), LibC.MFD_ALLOW_SEALING);
        try {
            Sys.ftruncate(fd.get(), size);
            Sys.fcntl(fd.get(), LibC.F_ADD_SEALS, "F_ADD_SEALS", LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW);
            return new FdBuffer(fd, size, BufferKind.MEMFD);
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    @Override
    public ExportedBuffer adopt(int fd, long size) {
        return FdBuffer.adoptSealedMemfd(fd);
    }
}

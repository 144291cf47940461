package org.dmabuf.testkit;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.dmabuf.api.BufferKind;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Mapping;
import org.dmabuf.linux.Sys;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;

/**
 * A memfd exporter for the kit's own tests, which can be broken on purpose: hand out memory that is not zero,
 * keep a copy of each buffer's fd after its release (a leak), or hand a released buffer's storage out again as it
 * is (recycling without clearing). Not thread-safe: one test at a time.
 */
final class KitMemfdExporter implements DmaBufExporter, AutoCloseable {
    static final String NAME_VALUE = "kit-memfd";

    /** The byte new buffers are filled with; 0 for a sound exporter. */
    byte fill;
    /** Whether release keeps a copy of the fd. */
    boolean leak;
    /** Whether a released buffer's storage is handed out again, uncleared, to the next request of its size. */
    boolean recycle;
    private final List<Fd> leaked = new ArrayList<>();
    private final Map<Long, Fd> released = new HashMap<>();

    static Map<String, Object> properties() {
        Map<String, Object> p = new HashMap<>();
        p.put(NAME, NAME_VALUE);
        p.put(KIND, KIND_MEMFD);
        return p;
    }

    @Override
    public ExportedBuffer allocate(AllocationRequest request) {
        long size = (request.size() + 4095) & -4096L;
        Fd kept = released.remove(size);
        Fd fd = kept != null ? kept : Sys.memfd("kit:" + request.name(), LibC.MFD_ALLOW_SEALING);
        if (kept == null) {
            Sys.ftruncate(fd.get(), size);
        }
        if (fill != 0) {
            try (Mapping m = Mapping.map(fd.get(), size, "fill")) {
                m.pointer().setMemory(0, size, fill);
            }
        }
        return new FdBuffer(fd, size, BufferKind.MEMFD) {
            @Override
            public void release() {
                if (leak) {
                    leaked.add(Sys.dup(fd(), "leaked on purpose"));
                }
                if (recycle) {
                    Fd old = released.put(size, Sys.dup(fd(), "kept for the next request"));
                    if (old != null) {
                        old.close();
                    }
                }
                super.release();
            }
        };
    }

    /** Closes what {@link #leak} kept. */
    @Override
    public void close() {
        leaked.forEach(Fd::close);
        leaked.clear();
        released.values().forEach(Fd::close);
        released.clear();
    }
}

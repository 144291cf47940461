package org.dmabuf.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.DmaDirection;
import org.dmabuf.api.Segment;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Sys;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;
import org.osgi.framework.Constants;

/**
 * A pure-Java exporter for the core's unit tests: memfd storage (real fds and inodes, so identity and get(fd)
 * work), capabilities from its service properties, and counters of every op so tests can check the core called
 * each exactly as often as it should. Not a device: exporters' own tests run against real drivers.
 */
final class TestExporter implements DmaBufExporter {
    private static final AtomicInteger SERVICE_IDS = new AtomicInteger(100);

    final Map<String, Object> props = new HashMap<>();
    final AtomicInteger allocated = new AtomicInteger();
    final AtomicInteger released = new AtomicInteger();
    final AtomicInteger attached = new AtomicInteger();
    final AtomicInteger detached = new AtomicInteger();
    final AtomicInteger mapped = new AtomicInteger();
    final AtomicInteger unmapped = new AtomicInteger();
    final AtomicInteger syncs = new AtomicInteger();
    final List<AllocationRequest> requests = new ArrayList<>();
    volatile RuntimeException failAllocation;
    /** The layout each buffer reports as its own ({@code ExportedBuffer.format()}); none when null. */
    volatile java.util.function.Function<AllocationRequest, org.dmabuf.api.BufferFormat> layout;
    /** Whether storage is sized for {@link #layout} (as a driver sizes it) rather than for the request. */
    volatile boolean sizeForLayout = true;

    TestExporter(String name, int ranking) {
        props.put(NAME, name);
        props.put(Constants.SERVICE_RANKING, ranking);
        props.put(Constants.SERVICE_ID, (long) SERVICE_IDS.incrementAndGet());
    }

    TestExporter with(String key, Object value) {
        props.put(key, value);
        return this;
    }

    String name() {
        return (String) props.get(NAME);
    }

    boolean contiguous() {
        return Boolean.TRUE.equals(props.get(CONTIGUOUS));
    }

    @Override
    public ExportedBuffer allocate(AllocationRequest request) {
        if (failAllocation != null) {
            throw failAllocation;
        }
        synchronized (requests) {
            requests.add(request);
        }
        var made = layout;
        org.dmabuf.api.BufferFormat own = made == null ? null : made.apply(request);
        allocated.incrementAndGet();
        long size = own != null && sizeForLayout ? Math.max(request.size(), own.bufferSize(0)) : request.size();
        var fd = Sys.memfd("test-" + name(), LibC.MFD_ALLOW_SEALING);
        try {
            Sys.ftruncate(fd.get(), size);
        } catch (DmaBufException e) {
            fd.close();
            throw e;
        }
        return new TestBuffer(fd, size, own);
    }

    final class TestBuffer extends FdBuffer {
        private final org.dmabuf.api.BufferFormat format;

        TestBuffer(org.dmabuf.linux.Fd fd, long size, org.dmabuf.api.BufferFormat format) {
            super(fd, size, BufferKind.MEMFD);
            this.format = format;
        }

        @Override
        public java.util.Optional<org.dmabuf.api.BufferFormat> format() {
            return java.util.Optional.ofNullable(format);
        }

        @Override
        public void attach(Attachment attachment) {
            attached.incrementAndGet();
        }

        @Override
        public void detach(Attachment attachment) {
            detached.incrementAndGet();
        }

        @Override
        public List<Segment> mapDmaBuf(Attachment attachment, DmaDirection direction) {
            mapped.incrementAndGet();
            long max = attachment.device().constraints().maxSegmentSize();
            // a non-contiguous exporter hands out page-sized pieces; a contiguous one as large as the device takes
            return softwareSegments(size, contiguous() ? max : Math.min(max, 4096));
        }

        @Override
        public void unmapDmaBuf(Attachment attachment, List<Segment> segments, DmaDirection direction) {
            unmapped.incrementAndGet();
        }

        @Override
        public void beginCpuAccess(org.dmabuf.api.SyncDirection d) {
            syncs.incrementAndGet();
        }

        @Override
        public void endCpuAccess(org.dmabuf.api.SyncDirection d) {
            syncs.incrementAndGet();
        }

        @Override
        public void release() {
            released.incrementAndGet();
            super.release();
        }
    }
}

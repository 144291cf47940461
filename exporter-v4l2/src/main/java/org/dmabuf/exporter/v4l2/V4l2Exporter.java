package org.dmabuf.exporter.v4l2;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.FrameSource;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.DmaBufUapi;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.Mapping;
import org.dmabuf.linux.Sys;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;

/**
 * A V4L2 capture node as an exporter: the driver's MMAP buffers ({@code VIDIOC_REQBUFS}), every plane of each
 * exported with {@code VIDIOC_EXPBUF} (one dma-buf per buffer of the layout: one for {@code YUYV} or {@code NV12},
 * one per plane for {@code NV12M}), in the format the driver set. {@link #allocate} hands out a dma-buf the device
 * is not using that holds the size asked for, or refuses ({@code EBUSY}); it reports the driver's layout as its
 * {@link ExportedBuffer#format() format} only where the dma-buf holds the whole image. {@link #capture} streams
 * frames into the buffers.
 *
 * <p>Thread-safe: the pool is guarded by this object.
 */
final class V4l2Exporter implements DmaBufExporter, AutoCloseable {
    private final V4l2Device device;
    private final BufferFormat format;
    /** The exported dma-bufs: by V4L2 buffer index, then by buffer of the layout (V4L2 plane). */
    private final List<List<Fd>> exported = new ArrayList<>();
    /** Handed out by {@link #allocate}: bit {@code index * buffers + plane}. */
    private final BitSet handedOut = new BitSet();
    private final String expName;
    private V4l2Capture capture;

    /**
     * Sets the format, requests the MMAP buffers and exports every plane of each.
     *
     * @param device the node
     * @param width width asked for
     * @param height height asked for
     * @param fourcc the V4L2 pixel format
     * @param count buffers asked for
     * @throws LinuxException naming the ioctl, the node and errno; nothing stays open
     * @throws org.dmabuf.api.InvalidArgumentException for a pixel format the table does not have
     */
    V4l2Exporter(V4l2Device device, int width, int height, int fourcc, int count) {
        this.device = device;
        try {
            this.format = device.setFormat(width, height, fourcc);
            int granted = device.requestBuffers(count, V4l2Uapi.V4L2_MEMORY_MMAP);
            for (int i = 0; i < granted; i++) {
                List<Fd> planes = new ArrayList<>();
                exported.add(planes);
                for (int p = 0; p < format.buffers(); p++) {
                    planes.add(device.export(i, p));
                }
            }
            this.expName = exported.isEmpty() ? "v4l2" : FdInfo.read(exported.get(0).get(0).get()).expName();
        } catch (RuntimeException e) {
            closeExported();
            throw e;
        }
    }

    private void closeExported() {
        exported.forEach(planes -> planes.forEach(Fd::close));
        exported.clear();
    }

    BufferFormat format() {
        return format;
    }

    int bufferCount() {
        return exported.size();
    }

    V4l2Device device() {
        return device;
    }

    /** The exported fd of one buffer (its first plane), owned by this exporter. */
    int exportedFd(int index) {
        return exportedFd(index, 0);
    }

    /** The exported fd of one plane of one buffer, owned by this exporter. */
    int exportedFd(int index, int plane) {
        return exported.get(index).get(plane).get();
    }

    /** The largest dma-buf a buffer of the layout needs: the largest {@code sizeimage}. */
    long maxSize() {
        long max = 0;
        for (int b = 0; b < format.buffers(); b++) {
            max = Math.max(max, format.bufferSize(b));
        }
        return max;
    }

    Map<String, Object> properties(int ranking) {
        Map<String, Object> p = new HashMap<>();
        String node = device.path().substring(device.path().lastIndexOf('/') + 1);
        p.put(NAME, "v4l2:" + device.driver() + ":" + node);
        p.put(EXP_NAME, expName);
        p.put(KIND, KIND_DMA_BUF);
        p.put(MAX_SIZE, maxSize());
        p.put(DEV_PATH, device.path());
        p.put(org.osgi.framework.Constants.SERVICE_RANKING, ranking);
        return p;
    }

    @Override
    public synchronized ExportedBuffer allocate(AllocationRequest request) {
        if (capture != null) {
            throw new LinuxException("allocate", device.path() + " is capturing: its buffers belong to the frames",
                    Errno.EBUSY);
        }
        int planes = format.buffers();
        int slot = -1;
        boolean free = false;
        for (int s = handedOut.nextClearBit(0); s < exported.size() * planes; s = handedOut.nextClearBit(s + 1)) {
            free = true;
            if (format.bufferSize(s % planes) >= request.size()) {
                slot = s;
                break;
            }
        }
        if (!free) {
            throw new LinuxException("allocate", device.path() + ": all " + exported.size() * planes
                    + " buffers are handed out", Errno.EBUSY);
        }
        if (slot < 0) {
            throw new LinuxException("allocate", device.path() + ": buffers hold at most " + maxSize() + " bytes ("
                    + format.describe() + "), " + request.size() + " asked for", Errno.EINVAL);
        }
        int index = slot / planes;
        int plane = slot % planes;
        long size = format.bufferSize(plane);
        // a buffer of a multi-planar layout holds one plane, not an image: it has no layout of its own
        Optional<BufferFormat> own = planes == 1 ? Optional.of(format) : Optional.empty();
        // the driver's buffer may have been handed out before: its next holder must not read the last one's bytes,
        // as a dma-heap's buffer is new memory, zeroed (a write under DMA_BUF_IOCTL_SYNC, the mapping unmapped)
        clear(exportedFd(index, plane), index, plane);
        handedOut.set(slot);
        int taken = slot;
        return new FdBuffer(Sys.dup(exportedFd(index, plane), "dma-buf of " + device.path() + " buffer " + index
                + " plane " + plane), size, BufferKind.DMA_BUF) {
            @Override
            public Optional<BufferFormat> format() {
                return own;
            }

            @Override
            public void release() {
                try {
                    // the driver's buffer is handed out again: its next holder must not see this one's name
                    DmaBufUapi.setName(fd(), "");
                } catch (LinuxException e) {
                    // the name only labels fdinfo and bufinfo; the buffer is given back all the same
                }
                try {
                    super.release();
                } finally {
                    synchronized (V4l2Exporter.this) {
                        handedOut.clear(taken);
                    }
                }
            }
        };
    }

    /**
     * Writes zeros over one exported plane, bracketed by {@code DMA_BUF_IOCTL_SYNC} for a write: all of the dma-buf
     * as the kernel sizes it (whole pages), which its holder can read, not only the plane's {@code sizeimage}.
     */
    private void clear(int fd, int index, int plane) {
        long size = Sys.sizeOf(fd, BufferKind.DMA_BUF);
        try (Mapping m = Mapping.map(fd, size, "clearing " + device.path() + " buffer " + index + " plane " + plane)) {
            DmaBufUapi.sync(fd, false, SyncDirection.WRITE);
            try {
                m.pointer().setMemory(0, size, (byte) 0);
            } finally {
                DmaBufUapi.sync(fd, true, SyncDirection.WRITE);
            }
        }
    }

    @Override
    public ExportedBuffer adopt(int fd, long size) {
        return FdBuffer.adopt(fd, size, BufferKind.DMA_BUF);
    }

    /**
     * Starts capturing into every buffer not handed out.
     *
     * @param registry the registry whose handles the frames are
     * @return the frame source; close it to stop
     * @throws LinuxException {@code EBUSY} if a capture runs or buffers are handed out
     */
    synchronized FrameSource capture(DmaBufRegistry registry) {
        if (capture != null || !handedOut.isEmpty()) {
            throw new LinuxException("capture", device.path() + ": already capturing or buffers handed out",
                    Errno.EBUSY);
        }
        List<List<org.dmabuf.api.DmaBuf>> handles = new ArrayList<>();
        try {
            for (List<Fd> planes : exported) {
                List<org.dmabuf.api.DmaBuf> frame = new ArrayList<>();
                handles.add(frame);
                for (Fd fd : planes) {
                    frame.add(registry.get(fd.get()));
                }
            }
        } catch (RuntimeException e) {
            handles.forEach(frame -> frame.forEach(org.dmabuf.api.DmaBuf::close));
            throw e;
        }
        // the frames are a pool of the driver's buffers: a frame goes back to the driver once all its holders
        // released it, never while a consumer still reads it
        List<org.dmabuf.api.FrameBuffer> frames = new ArrayList<>();
        for (List<org.dmabuf.api.DmaBuf> frame : handles) {
            frames.add(new org.dmabuf.api.FrameBuffer() {
                @Override
                public BufferFormat format() {
                    return format;
                }

                @Override
                public List<org.dmabuf.api.DmaBuf> buffers() {
                    return frame;
                }

                @Override
                public void close() {
                    frame.forEach(org.dmabuf.api.DmaBuf::close);
                }
            });
        }
        org.dmabuf.api.BufferPool pool;
        try {
            pool = registry.poolOf(frames);
        } catch (RuntimeException e) {
            handles.forEach(frame -> frame.forEach(org.dmabuf.api.DmaBuf::close));
            throw e;
        }
        try {
            capture = new V4l2Capture(device, format, handles, pool, () -> {
                synchronized (V4l2Exporter.this) {
                    capture = null;
                }
            });
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
        return capture;
    }

    @Override
    public synchronized void close() {
        if (capture != null) {
            capture.close();
        }
        closeExported();
        try {
            device.requestBuffers(0, V4l2Uapi.V4L2_MEMORY_MMAP);
        } catch (LinuxException e) {
            // buffers still mapped by someone: the driver frees them when the last user goes
        }
    }
}

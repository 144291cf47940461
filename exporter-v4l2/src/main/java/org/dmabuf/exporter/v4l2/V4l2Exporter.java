package org.dmabuf.exporter.v4l2;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.FrameSource;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.Sys;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;

/**
 * A V4L2 capture node as an exporter: the driver's MMAP buffers ({@code VIDIOC_REQBUFS}), each exported with
 * {@code VIDIOC_EXPBUF}, in the format the driver set. {@link #allocate} hands out a buffer the device is not
 * using, as large as asked, or refuses ({@code EBUSY}); {@link #capture} streams frames into the buffers.
 *
 * <p>Thread-safe: the pool is guarded by this object.
 */
final class V4l2Exporter implements DmaBufExporter, AutoCloseable {
    private final V4l2Device device;
    private final BufferFormat format;
    private final List<Fd> exported = new ArrayList<>();
    private final BitSet handedOut = new BitSet();
    private final String expName;
    private V4l2Capture capture;

    /**
     * Sets the format, requests the MMAP buffers and exports each.
     *
     * @throws LinuxException naming the ioctl, the node and errno; nothing stays open
     */
    V4l2Exporter(V4l2Device device, int width, int height, int fourcc, int count) {
        this.device = device;
        try {
            this.format = device.setFormat(width, height, fourcc);
            int granted = device.requestBuffers(count, V4l2Uapi.V4L2_MEMORY_MMAP);
            for (int i = 0; i < granted; i++) {
                exported.add(device.export(i, 0));
            }
            this.expName = exported.isEmpty() ? "v4l2" : FdInfo.read(exported.get(0).get()).expName();
        } catch (RuntimeException e) {
            exported.forEach(Fd::close);
            throw e;
        }
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

    /** The exported fd of one buffer, owned by this exporter. */
    int exportedFd(int index) {
        return exported.get(index).get();
    }

    Map<String, Object> properties(int ranking) {
        Map<String, Object> p = new HashMap<>();
        String node = device.path().substring(device.path().lastIndexOf('/') + 1);
        p.put(NAME, "v4l2:" + device.driver() + ":" + node);
        p.put(EXP_NAME, expName);
        p.put(KIND, KIND_DMA_BUF);
        p.put(MAX_SIZE, format.planes().get(0).length());
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
        int i = handedOut.nextClearBit(0);
        if (i >= exported.size()) {
            throw new LinuxException("allocate", device.path() + ": all " + exported.size()
                    + " buffers are handed out", Errno.EBUSY);
        }
        long size = format.planes().get(0).length();
        if (request.size() > size) {
            throw new LinuxException("allocate", device.path() + ": buffers hold " + size + " bytes, "
                    + request.size() + " asked for", Errno.EINVAL);
        }
        handedOut.set(i);
        int index = i;
        return new FdBuffer(Sys.dup(exported.get(i).get(), "dma-buf of " + device.path() + " buffer " + i), size,
                BufferKind.DMA_BUF) {
            @Override
            public void release() {
                try {
                    super.release();
                } finally {
                    synchronized (V4l2Exporter.this) {
                        handedOut.clear(index);
                    }
                }
            }
        };
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
        List<org.dmabuf.api.DmaBuf> handles = new ArrayList<>();
        try {
            for (Fd fd : exported) {
                handles.add(registry.get(fd.get()));
            }
        } catch (RuntimeException e) {
            handles.forEach(org.dmabuf.api.DmaBuf::close);
            throw e;
        }
        capture = new V4l2Capture(device, format, handles, V4l2Uapi.V4L2_MEMORY_MMAP, () -> {
            synchronized (V4l2Exporter.this) {
                capture = null;
            }
        });
        return capture;
    }

    @Override
    public synchronized void close() {
        if (capture != null) {
            capture.close();
        }
        exported.forEach(Fd::close);
        exported.clear();
        try {
            device.requestBuffers(0, V4l2Uapi.V4L2_MEMORY_MMAP);
        } catch (LinuxException e) {
            // buffers still mapped by someone: the driver frees them when the last user goes
        }
    }
}

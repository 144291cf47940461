package org.dmabuf.exporter.v4l2;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.dmabuf.api.DmaBuf;

/**
 * V4L2 as an importer: the device captures straight into buffers of another exporter ({@code VIDIOC_REQBUFS}
 * with {@code V4L2_MEMORY_DMABUF}, {@code VIDIOC_QBUF} with their fds): zero copy from the sensor into, say, a
 * dma-heap buffer. Threads: one thread drives it.
 */
final class DmabufCapture implements AutoCloseable {
    private final V4l2Device device;
    private final List<DmaBuf> buffers;
    private boolean streaming;

    /**
     * Requests a DMABUF queue of the buffers' count and queues each.
     *
     * @param device a node whose format is set
     * @param buffers the buffers to capture into, each at least one frame long; the caller keeps them
     */
    DmabufCapture(V4l2Device device, List<DmaBuf> buffers) {
        this.device = device;
        this.buffers = new ArrayList<>(buffers);
        device.requestBuffers(buffers.size(), V4l2Uapi.V4L2_MEMORY_DMABUF);
        for (int i = 0; i < buffers.size(); i++) {
            device.queueDmabuf(i, buffers.get(i).fd(), buffers.get(i).size());
        }
    }

    /**
     * Starts streaming and waits for the next filled buffer.
     *
     * @param timeout how long to wait
     * @return the filled buffer's index and details, or null if none came in time; queue it again with
     *         {@link #requeue(int)}
     */
    V4l2Device.Dequeued next(Duration timeout) {
        if (!streaming) {
            device.streamOn();
            streaming = true;
        }
        return device.dequeue(V4l2Uapi.V4L2_MEMORY_DMABUF, timeout);
    }

    void requeue(int index) {
        device.queueDmabuf(index, buffers.get(index).fd(), buffers.get(index).size());
    }

    @Override
    public void close() {
        if (streaming) {
            device.streamOff();
        }
        device.requestBuffers(0, V4l2Uapi.V4L2_MEMORY_DMABUF);
    }
}

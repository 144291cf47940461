package org.dmabuf.exporter.v4l2;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.Frame;
import org.dmabuf.api.FrameSource;

/**
 * Captures into a set of buffers: the driver's own MMAP buffers (exported), or buffers of another exporter queued
 * with {@code V4L2_MEMORY_DMABUF} (zero copy from the device into, say, a dma-heap). {@code QBUF} all,
 * {@code STREAMON}, and a thread that dequeues each filled buffer and offers it as a {@link Frame}. The hand-off queue holds at most {@code buffers - 2} frames;
 * when it is full the oldest waiting frame goes back to the driver and counts as dropped, so the driver always has
 * buffers to fill. A frame goes back to the driver when its consumer closes it.
 *
 * <p>Threads: one capture thread; {@link #next} and frame closes from any thread; queueing is serialised on the
 * device.
 */
final class V4l2Capture implements FrameSource {
    private final V4l2Device device;
    private final BufferFormat format;
    private final int memory;
    private final Runnable onClose;
    private final List<DmaBuf> handles;
    private final BlockingQueue<V4l2Frame> ready;
    private final AtomicLong captured = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicBoolean started = new AtomicBoolean();
    private volatile boolean streaming;
    private volatile RuntimeException failure;
    private Thread thread;

    /**
     * A capture into these buffers.
     *
     * @param device the node, its format set
     * @param format the format the driver set
     * @param handles the buffers, index by index; owned by the capture from now on
     * @param memory {@code V4L2_MEMORY_MMAP} (the handles are the driver's exported buffers, already requested) or
     *        {@code V4L2_MEMORY_DMABUF} (the handles are another exporter's; the queue is requested at start)
     * @param onClose run when the capture is closed
     */
    V4l2Capture(V4l2Device device, BufferFormat format, List<DmaBuf> handles, int memory, Runnable onClose) {
        this.device = device;
        this.format = format;
        this.handles = new ArrayList<>(handles);
        this.memory = memory;
        this.onClose = onClose;
        this.ready = new ArrayBlockingQueue<>(Math.max(1, handles.size() - 2));
    }

    /**
     * A capture straight into buffers of another exporter ({@code V4L2_MEMORY_DMABUF}).
     *
     * @param device the node, its format set
     * @param format the format the driver set
     * @param registry where the buffers come from
     * @param exporter the exporter's name, for example {@code system}
     * @param count how many buffers
     * @return the capture; close it to stop and release the buffers
     */
    static V4l2Capture into(V4l2Device device, BufferFormat format, DmaBufRegistry registry, String exporter,
            int count) {
        long size = (format.planes().get(0).length() + 4095) & -4096L;
        List<DmaBuf> buffers = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                buffers.add(registry.allocate(org.dmabuf.api.BufferRequest.ofSize(size).exporter(exporter)
                        .name("v4l2-capture-" + i).format(format)));
            }
        } catch (RuntimeException e) {
            buffers.forEach(DmaBuf::close);
            throw e;
        }
        return new V4l2Capture(device, format, buffers, V4l2Uapi.V4L2_MEMORY_DMABUF, () -> {
        });
    }

    private void queue(int index) {
        if (memory == V4l2Uapi.V4L2_MEMORY_MMAP) {
            device.queueMmap(index);
        } else {
            device.queueDmabuf(index, handles.get(index).fd(), handles.get(index).size());
        }
    }

    private void start() {
        synchronized (device) {
            if (memory == V4l2Uapi.V4L2_MEMORY_DMABUF) {
                device.requestBuffers(handles.size(), memory);
            }
            for (int i = 0; i < handles.size(); i++) {
                queue(i);
            }
            device.streamOn();
            streaming = true;
        }
        thread = new Thread(this::loop, "v4l2-capture " + device.path());
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        try {
            while (streaming) {
                V4l2Device.Dequeued d;
                synchronized (device) {
                    if (!streaming) {
                        break;
                    }
                }
                d = device.dequeue(memory, Duration.ofMillis(100));
                if (d == null) {
                    continue;
                }
                captured.incrementAndGet();
                V4l2Frame f = new V4l2Frame(d);
                while (!ready.offer(f)) {
                    V4l2Frame oldest = ready.poll();
                    if (oldest != null) {
                        dropped.incrementAndGet();
                        oldest.close();
                    }
                }
            }
        } catch (RuntimeException e) {
            failure = e;
        }
    }

    private void requeue(int index) {
        synchronized (device) {
            if (streaming) {
                queue(index);
            }
        }
    }

    @Override
    public Frame next(Duration timeout) {
        if (started.compareAndSet(false, true)) {
            start();
        }
        RuntimeException f = failure;
        if (f != null) {
            throw new DmaBufException("next", null, "capture on " + device.path() + " failed: " + f.getMessage(), f);
        }
        try {
            return ready.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    @Override
    public BufferFormat format() {
        return format;
    }

    @Override
    public long framesCaptured() {
        return captured.get();
    }

    @Override
    public long framesDropped() {
        return dropped.get();
    }

    @Override
    public void close() {
        boolean wasStreaming;
        synchronized (device) {
            wasStreaming = streaming;
            streaming = false;
        }
        if (thread != null) {
            try {
                thread.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (wasStreaming) {
            synchronized (device) {
                device.streamOff();
                if (memory == V4l2Uapi.V4L2_MEMORY_DMABUF) {
                    device.requestBuffers(0, memory);
                }
            }
        }
        V4l2Frame f;
        while ((f = ready.poll()) != null) {
            f.close();
        }
        handles.forEach(DmaBuf::close);
        handles.clear();
        onClose.run();
    }

    /** One dequeued buffer; holds its own reference so it outlives a stopped capture. */
    private final class V4l2Frame implements Frame {
        private final V4l2Device.Dequeued d;
        private final DmaBuf buffer;
        private final AtomicBoolean closed = new AtomicBoolean();

        V4l2Frame(V4l2Device.Dequeued d) {
            this.d = d;
            this.buffer = handles.get(d.index()).get();
        }

        @Override
        public DmaBuf buffer() {
            return buffer;
        }

        @Override
        public long sequence() {
            return d.sequence();
        }

        @Override
        public long timestampNanos() {
            return d.timestampNanos();
        }

        @Override
        public long bytesUsed() {
            return d.bytesUsed();
        }

        @Override
        public BufferFormat format() {
            return format;
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                buffer.close();
                requeue(d.index());
            }
        }
    }
}

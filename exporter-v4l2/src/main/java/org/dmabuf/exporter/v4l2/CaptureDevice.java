package org.dmabuf.exporter.v4l2;

import java.time.Duration;

/**
 * What a {@link V4l2Capture} asks of its video node: the streaming I/O calls of the capture queue. {@link V4l2Device}
 * is the real one (the ioctls); a test may put an in-memory one in its place to drive the capture's steps itself.
 * The capture holds the object's monitor ({@code synchronized (device)}) around QBUF and STREAMON/STREAMOFF and its
 * own bookkeeping of them, never around {@link #dequeue}; an implementation synchronises its own state otherwise, as
 * the kernel does.
 */
interface CaptureDevice {
    /** The node's path, for messages. */
    String path();

    /** {@code VIDIOC_REQBUFS}: the count granted; 0 frees the queue. */
    int requestBuffers(int count, int memory);

    /** {@code VIDIOC_QBUF} of a driver's MMAP buffer of {@code planes} V4L2 planes. */
    void queueMmap(int index, int planes);

    /** {@code VIDIOC_QBUF} of dma-bufs (one per V4L2 plane) at a V4L2 index. */
    void queueDmabuf(int index, int[] dmabufFds, long[] lengths);

    /** {@code VIDIOC_STREAMON}. */
    void streamOn();

    /** {@code VIDIOC_STREAMOFF}: the driver gives back every queued buffer. */
    void streamOff();

    /** Waits at most {@code timeout} for a filled buffer and dequeues it ({@code VIDIOC_DQBUF}); null if none. */
    V4l2Device.Dequeued dequeue(int memory, Duration timeout);
}

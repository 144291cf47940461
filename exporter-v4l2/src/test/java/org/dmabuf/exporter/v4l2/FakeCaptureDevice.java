package org.dmabuf.exporter.v4l2;

import java.time.Duration;
import java.util.List;

/**
 * An in-memory capture queue in place of a video node, for driving a {@link V4l2Capture#stepped} capture under a
 * model checker: the buffers the driver holds are bits of a mask; a dequeue returns the lowest queued buffer at once
 * (the driver fills instantly) or null, never waiting; STREAMOFF gives every buffer back. It records what a real
 * driver refuses (QBUF of a buffer already queued or of an unknown index, QBUF or DQBUF after STREAMOFF with the
 * capture closed) as an error for the test to report. Its state is guarded by a lock of its own, never the
 * object's monitor, which the capture holds around its QBUF bookkeeping: the kernel's locking is its own too.
 * Thread-safe.
 */
final class FakeCaptureDevice implements CaptureDevice {
    private final Object lock = new Object();
    private final int count;
    /** Bit i: buffer i is queued (the driver holds it). */
    private int queued;
    private boolean on;
    private int streamOns;
    private int streamOffs;
    private long sequence;
    /** The first thing a driver would have refused, else null. */
    private String error;

    /** A queue of {@code count} buffers (at most 31), none queued, not streaming. */
    FakeCaptureDevice(int count) {
        this.count = count;
    }

    @Override
    public String path() {
        return "/dev/fake-video";
    }

    @Override
    public int requestBuffers(int n, int memory) {
        return n;
    }

    @Override
    public void queueMmap(int index, int planes) {
        synchronized (lock) {
            if (index < 0 || index >= count) {
                refuse("QBUF of index " + index);
            } else if ((queued & (1 << index)) != 0) {
                refuse("QBUF of buffer " + index + ", already queued");
            } else if (streamOffs > 0) {
                refuse("QBUF of buffer " + index + " after STREAMOFF");
            }
            queued |= 1 << index;
        }
    }

    @Override
    public void queueDmabuf(int index, int[] dmabufFds, long[] lengths) {
        queueMmap(index, dmabufFds.length);
    }

    @Override
    public void streamOn() {
        synchronized (lock) {
            on = true;
            streamOns++;
        }
    }

    @Override
    public void streamOff() {
        synchronized (lock) {
            on = false;
            streamOffs++;
            queued = 0;
        }
    }

    @Override
    public V4l2Device.Dequeued dequeue(int memory, Duration timeout) {
        synchronized (lock) {
            if (!on) {
                if (streamOffs > 0) {
                    refuse("DQBUF after STREAMOFF");
                }
                return null;
            }
            if (queued == 0) {
                return null;
            }
            int index = Integer.numberOfTrailingZeros(queued);
            queued &= ~(1 << index);
            sequence++;
            return new V4l2Device.Dequeued(index, sequence, sequence * 1000, List.of(4096L));
        }
    }

    private void refuse(String what) {
        if (error == null) {
            error = what;
        }
    }

    /** Whether buffer {@code index} is queued. */
    boolean isQueued(int index) {
        synchronized (lock) {
            return (queued & (1 << index)) != 0;
        }
    }

    /** How many buffers are queued. */
    int queuedCount() {
        synchronized (lock) {
            return Integer.bitCount(queued);
        }
    }

    int streamOns() {
        synchronized (lock) {
            return streamOns;
        }
    }

    int streamOffs() {
        synchronized (lock) {
            return streamOffs;
        }
    }

    /** The first call a driver would have refused, else null. */
    String error() {
        synchronized (lock) {
            return error;
        }
    }
}

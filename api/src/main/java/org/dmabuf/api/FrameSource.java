package org.dmabuf.api;

import java.time.Duration;
import org.osgi.annotation.versioning.ProviderType;

/**
 * A stream of captured frames from a video device. The device keeps capturing on its own thread; frames wait in a
 * short queue, and when the consumer is slower than the device the oldest waiting frame goes back to the device
 * and counts as dropped, so the device never stalls for lack of buffers held by the queue.
 *
 * <p>Thread-safe: any thread may call {@link #next}; {@link #close()} stops capturing (frames already handed out
 * stay valid until closed).
 */
@ProviderType
public interface FrameSource extends AutoCloseable {
    /**
     * The next captured frame, starting the capture on the first call.
     *
     * @param timeout how long to wait
     * @return the frame, owned by the caller, or null if none came in time
     * @throws DmaBufException naming the ioctl, the device and errno if capturing fails
     */
    Frame next(Duration timeout);

    /**
     * The layout of every frame.
     *
     * @return the format the driver set
     */
    BufferFormat format();

    /**
     * Frames captured so far.
     *
     * @return a count
     */
    long framesCaptured();

    /**
     * Frames given back to the device unseen because the consumer was too slow.
     *
     * @return a count
     */
    long framesDropped();

    /** Stops capturing ({@code STREAMOFF}). */
    @Override
    void close();
}

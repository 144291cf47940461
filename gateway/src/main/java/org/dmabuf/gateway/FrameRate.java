package org.dmabuf.gateway;

/**
 * Frames per second over a sliding window: the frames whose time falls within the last {@code window} nanoseconds,
 * as {@code (frames - 1) / (newest - oldest)}; zero when fewer than two frames fall within it (a pipeline that
 * stopped reads zero once its last frames are older than the window). Keeps the times of the last
 * {@link #CAPACITY} frames only, so a rate above {@code CAPACITY / window} is measured over the latest frames.
 * No allocation per frame.
 *
 * <p>Threads: thread-safe; the pipeline's thread calls {@link #frame}, any thread {@link #perSecond}.
 */
final class FrameRate {
    /** How many frames' times are kept. */
    static final int CAPACITY = 1024;

    private final long window;
    private final long[] times = new long[CAPACITY];
    private int next; // where the next time goes
    private int count; // times kept, at most CAPACITY

    /**
     * A rate over a window.
     *
     * @param windowNanos the window, in nanoseconds (positive)
     */
    FrameRate(long windowNanos) {
        if (windowNanos <= 0) {
            throw new IllegalArgumentException("window of " + windowNanos + " ns");
        }
        this.window = windowNanos;
    }

    /**
     * Counts a frame.
     *
     * @param nanos when it came, in {@link System#nanoTime()}'s time, not before the previous frame's
     */
    synchronized void frame(long nanos) {
        times[next] = nanos;
        next = (next + 1) % CAPACITY;
        count = Math.min(count + 1, CAPACITY);
    }

    /**
     * The rate at a time.
     *
     * @param now the time, in {@link System#nanoTime()}'s time
     * @return frames per second over the window ending at {@code now}
     */
    synchronized double perSecond(long now) {
        int newest = (next - 1 + CAPACITY) % CAPACITY;
        int frames = 0;
        long oldest = 0;
        for (int k = 0; k < count; k++) {
            long t = times[(newest - k + CAPACITY) % CAPACITY];
            if (now - t >= window) {
                break;
            }
            frames++;
            oldest = t;
        }
        if (frames < 2) {
            return 0;
        }
        return (frames - 1) * 1e9 / (times[newest] - oldest);
    }
}
